"""Simplified Chinese for the whole add-on, through Blender's own translation system.

English is the source: every label, tooltip and message is written in English in the code,
and :data:`CATALOG` (in ``translations_zh.py``) maps it to Chinese.  Blender 4.0+ calls the
language ``zh_HANS``, Blender 3.x ``zh_CN``: both are registered.

- Static texts (labels, property names and tooltips, operator names and descriptions, enum
  items) are registered with ``bpy.app.translations.register``: Blender translates them itself
  when *Translate Interface* / *Tooltips* are on.
- Texts built at run time (job progress such as ``Downloading 12.3 MB / 45.6 MB (27%) ·
  8.1 MB/s``, reports, the core's error messages) are in the catalog as English templates with
  ``{placeholders}``.  :func:`localize` finds the template a text was made from, has Blender
  translate the template (``pgettext_iface``/``_tip``/``_rpt``, so the user's language and
  switches decide) and puts the values back in.
- Errors are translated piece by piece by :func:`error_text`: the message, Ark's details (HTTP
  status, code, request id) and the hint.  Where the message is Ark's own English text, its
  error ``code`` picks a Chinese explanation (:data:`CODE_TEXTS`).

The core stays English and bpy-free; only this layer translates.
"""

import re
from collections.abc import Callable
from functools import lru_cache
from typing import cast

import bpy

from ...core.errors import ArkError
from ...core.linebreak import wrap
from ...core.messages import verbatim
from .zh_hans import CATALOG, CODE_TEXTS

__all__ = [
    "CATALOG",
    "CONTEXT",
    "CODE_TEXTS",
    "LOCALES",
    "error_text",
    "iface",
    "localize",
    "plural",
    "register",
    "rpt",
    "tip",
    "unregister",
    "wrap",
]

#: Blender's names for Simplified Chinese: 4.0 and later, then 3.x.
LOCALES = ("zh_HANS", "zh_CN")
#: The add-on's own context, for words whose meaning here differs from Blender's (``text_ctxt=``).
CONTEXT = "ark3d"
#: Translation contexts: "*" for labels, properties and tooltips, "Operator" for operator names.
_CONTEXTS = ("*", "Operator", CONTEXT)
#: Placeholders whose values are themselves texts of ours, translated in turn.
_NESTED = frozenset({"source", "summary", "phase", "text", "what", "why", "state", "status"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Placeholders that only ever hold a number: they match digits only, so a template such as
#: "{n} objects" cannot swallow the start of a longer text.
_NUMBERS = frozenset({"n", "count", "total", "page", "pages",
                      "port", "got", "expected", "received", "seconds", "limit", "width", "height",
                      "x", "y", "z"})

_translations = bpy.app.translations
# (The stubs declare these as returning None.)
_pgettext_iface = cast(Callable[[str], str], _translations.pgettext_iface)
_pgettext_tip = cast(Callable[[str], str], _translations.pgettext_tip)
#: Blender 4.0+ has a switch of its own for reports; before, they follow the interface's.
_pgettext_rpt = cast(Callable[[str], str], getattr(_translations, "pgettext_rpt", _pgettext_iface))


def iface(msgid: str) -> str:
    """A label or a message shown in the UI (*Translate Interface*)."""
    return _pgettext_iface(msgid)


def tip(msgid: str) -> str:
    """A tooltip (*Translate Tooltips*)."""
    return _pgettext_tip(msgid)


def rpt(msgid: str) -> str:
    """An operator report (*Translate Reports*, Blender 4.0+; the interface switch before)."""
    return _pgettext_rpt(msgid)


_KINDS: dict[str, Callable[[str], str]] = {"iface": iface, "tip": tip, "rpt": rpt}
_SWITCHES = {"iface": "use_translate_interface", "tip": "use_translate_tooltips", "rpt": "use_translate_reports"}


def plural(n: int, one: str, many: str, kind: str = "iface") -> str:
    """A count with its noun: ``one`` or ``many`` (templates with ``{n}``) as English chooses
    (1 takes the singular), in the user's language.  The catalog holds both forms, as Chinese
    has one form for both."""
    template = one if n == 1 else many
    return _KINDS[kind](template).format(n=f"{n:,}")


def _translating(kind: str) -> bool:
    """Cheap test before any matching: a non-English language with this kind switched on."""
    locale = _translations.locale
    if not locale or locale.startswith("en"):
        return False
    prefs = bpy.context.preferences
    if prefs is None:
        return False
    view = prefs.view
    return bool(getattr(view, _SWITCHES[kind], view.use_translate_interface))


def _compile(template: str) -> "re.Pattern[str]":
    parts = _PLACEHOLDER.split(template)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>{'[-+]?[0-9][0-9,.]*' if part in _NUMBERS else '.+?'})"
        for i, part in enumerate(parts)
    )
    return re.compile(regex + r"\Z", re.DOTALL)


def _specificity(template: str) -> tuple[bool, int]:
    """Templates that start with words before those that start with a value, then the most words."""
    return template.startswith("{"), -len(_PLACEHOLDER.sub("", template))


#: (template, its pattern), most specific first.
_PATTERNS: list[tuple[str, "re.Pattern[str]"]] = sorted(
    ((t, _compile(t)) for t in CATALOG if _PLACEHOLDER.search(t)),
    key=lambda item: _specificity(item[0]),
)


@lru_cache(maxsize=2048)
def match(text: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The catalog template ``text`` was made from, and the placeholder values; None if none."""
    for template, pattern in _PATTERNS:
        found = pattern.match(text)
        if found is not None:
            return template, tuple(found.groupdict().items())
    return None


_DETAIL = r"(?:HTTP \d{3}|code [^\s,()]+|request id [^\s,()]+)"
#: What :meth:`ArkError.user_message` makes: "What (HTTP 401, code X, request id Y). Hint."
_USER_MESSAGE = re.compile(
    rf"(?P<message>.+?)(?: \((?P<details>{_DETAIL}(?:, {_DETAIL})*)\))?\.(?: (?P<hint>.+)\.)?\Z", re.DOTALL
)


def _from_user_message(text: str, kind: str) -> str | None:
    """An error's :meth:`~ArkError.user_message` (kept as text: a check result, a job's state), translated."""
    found = _USER_MESSAGE.match(text)
    if found is None:
        return None
    error = ArkError(verbatim(found["message"]), hint=verbatim(found["hint"]) if found["hint"] else None)
    for item in (found["details"] or "").split(", "):
        if item.startswith("HTTP "):
            error.http_status = int(item[5:])
        elif item.startswith("code "):
            error.code = item[5:]
        elif item.startswith("request id "):
            error.request_id = item[11:]
    ours = (
        localize(error.message, kind, None, 1) != error.message
        or bool(error.hint and localize(str(error.hint), kind, None, 1) != str(error.hint))
        or bool(code_text(error.code))
    )
    # Nothing of it was ours to translate: leave the text alone rather than change its punctuation.
    return error_text(error, kind) if ours else None


def localize(text: str, kind: str = "iface", overrides: dict[str, str] | None = None, _depth: int = 0) -> str:
    """``text`` in the user's language: as a catalog entry, or through the template it was made from."""
    if not text or not _translating(kind):
        return text
    gettext = _KINDS[kind]
    direct = gettext(text)
    if direct != text or _depth > 3:
        return direct
    if _depth == 0 and text.endswith("."):
        composed = _from_user_message(text, kind)
        if composed is not None:
            return composed
    if _depth and ", " in text:  # a list of phrases of ours ("2 objects, 9,788 triangles, ...")
        parts = text.split(", ")
        local = [localize(part, kind, None, _depth + 1) for part in parts]
        if all(a != b for a, b in zip(local, parts, strict=True)):
            return gettext(", ").join(local)
    found = match(text)
    if found is None:
        return text
    template, values = found
    translated = gettext(template)
    if translated == template:
        return text
    filled = {}
    for name, value in values:
        if overrides and name in overrides:
            filled[name] = overrides[name]
        elif name in _NESTED:
            filled[name] = localize(value, kind, None, _depth + 1)
        else:
            filled[name] = value
    try:
        return translated.format(**filled)
    except (KeyError, IndexError, ValueError):
        return text


def code_text(code: str) -> str:
    """The English explanation of an Ark error code (exact, else its longest known prefix)."""
    parts = code.split(".")
    for n in range(len(parts), 0, -1):
        text = CODE_TEXTS.get(".".join(parts[:n]))
        if text:
            return text
    return ""


def error_text(error: ArkError, kind: str = "rpt") -> str:
    """:meth:`ArkError.user_message` in the user's language (the same text in English)."""
    if not _translating(kind):
        return error.user_message()
    gettext = _KINDS[kind]
    message = error.message.rstrip(". ")
    explained = code_text(error.code)
    local = localize(message, kind, {"reason": gettext(explained)} if explained else None)
    if local == message and explained:
        # Ark's own (English) words: the code says the same in the user's language.
        local = gettext(explained)
    details = []
    if error.http_status is not None:
        details.append(f"HTTP {error.http_status}")
    if error.code:
        details.append(gettext("code {code}").format(code=error.code))
    if error.request_id:
        details.append(gettext("request id {request_id}").format(request_id=error.request_id))
    if details:
        text = gettext("{message} ({details}).").format(message=local, details=gettext(", ").join(details))
    else:
        text = gettext("{message}.").format(message=local)
    hint = str(error.hint).rstrip(". ") if error.hint is not None else ""
    if hint:
        text += gettext(" {hint}.").format(hint=localize(hint, kind))
    return text


# -- registration -----------------------------------------------------------------------------


def translation_dict() -> dict[str, dict[tuple[str, str], str]]:
    entries = {(context, en): zh for en, zh in CATALOG.items() for context in _CONTEXTS}
    return {locale: entries for locale in LOCALES}


def register() -> None:
    try:
        _translations.unregister(__package__)
    except (ValueError, KeyError, RuntimeError):
        pass
    _translations.register(__package__, translation_dict())
    match.cache_clear()


def unregister() -> None:
    try:
        _translations.unregister(__package__)
    except (ValueError, KeyError, RuntimeError):
        pass
