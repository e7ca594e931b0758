"""Simplified Chinese for the whole add-on, through Blender's own translation system, by message id.

English is the source: every label, tooltip and message is written in English in the code,
and :data:`CATALOG` (``zh_hans.py``) maps each English text, the message id, to Chinese.
Blender 4.0+ calls the language ``zh_HANS``, Blender 3.x ``zh_CN``: both are registered.

- Static texts (labels, property names and tooltips, operator names and descriptions, enum
  items) are registered with ``bpy.app.translations.register``: Blender translates them itself
  when *Translate Interface* / *Tooltips* are on.
- Texts built at run time are :class:`~..core.messages.Message` values: a msgid and its
  parameters.  :func:`text` has Blender translate the msgid (``pgettext_iface``/``_tip``/``_rpt``,
  so the user's language and switches decide) and formats the translation with the same
  parameters, nested messages translated in turn.  Nothing is parsed back from English.
- :func:`error_text` is :meth:`ArkError.user_message` in the user's language.  Where the message
  is Ark's own English words (:func:`~..core.messages.ark_words`), the error's ``code`` picks a
  Chinese explanation instead (:data:`CODE_TEXTS`).  :func:`text` and :func:`report` take an
  error too, or a message with an error among its values, so a text kept to be shown later (the
  panel's last message, the Tasks browser's and the Generate section's status lines, Check
  Connection's failure) is kept as what it is, a message or an error, and rendered when it is
  drawn: in the language of that moment.

The core stays English and bpy-free; only this layer translates.
"""

from collections.abc import Callable
from typing import cast

import bpy

from ...core.errors import ArkError
from ...core.messages import ARK_WORDS, Message
from .zh_hans import CATALOG, CODE_TEXTS

__all__ = [
    "CATALOG",
    "CONTEXT",
    "CODE_TEXTS",
    "LOCALES",
    "error_text",
    "iface",
    "register",
    "report",
    "rpt",
    "text",
    "tip",
    "unregister",
]

#: Blender's names for Simplified Chinese: 4.0 and later, then 3.x.
LOCALES = ("zh_HANS", "zh_CN")
#: The add-on's own context, for words whose meaning here differs from Blender's (``text_ctxt=``).
CONTEXT = "ark3d"
#: Translation contexts: "*" for labels, properties and tooltips, "Operator" for operator names.
_CONTEXTS = ("*", "Operator", CONTEXT)

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


def _translating(kind: str) -> bool:
    """A non-English language with this kind switched on (else English, without asking Blender per text)."""
    locale = _translations.locale
    if not locale or locale.startswith("en"):
        return False
    prefs = bpy.context.preferences
    if prefs is None:
        return False
    view = prefs.view
    return bool(getattr(view, _SWITCHES[kind], view.use_translate_interface))


def text(message: Message | ArkError, kind: str = "iface") -> str:
    """``message`` in the user's language (``kind``: which of Blender's switches applies).

    An error reads as :func:`error_text` has it, also as a value of a message (the reason in
    "Only the library is shown: {reason}").
    """
    if isinstance(message, ArkError):
        return error_text(message, kind)
    if not _translating(kind):
        return message.render()  # an error among the values reads as str() has it: its English user_message
    return _errors_rendered(message, kind).render(_KINDS[kind])


def _errors_rendered(message: Message, kind: str) -> Message:
    """``message`` with each error among its values (nested messages' too) rendered by :func:`error_text`,
    so its code's explanation stands for Ark's English words; ``message`` itself when it holds none."""
    params: dict[str, object] = {}
    for key, value in message.params.items():
        if isinstance(value, ArkError):
            value = error_text(value, kind)
        elif isinstance(value, Message):
            value = _errors_rendered(value, kind)
        params[key] = value
    changed = any(params[key] is not value for key, value in message.params.items())
    return Message(message.msgid, params) if changed else message


def report(message: Message | ArkError) -> str:
    """``message`` for an operator report (*Translate Reports*)."""
    return text(message, "rpt")


def code_text(code: str) -> str:
    """The English explanation of an Ark error code (exact, else its longest known prefix)."""
    parts = code.split(".")
    for n in range(len(parts), 0, -1):
        explained = CODE_TEXTS.get(".".join(parts[:n]))
        if explained:
            return explained
    return ""


def error_text(error: ArkError, kind: str = "rpt") -> str:
    """:meth:`ArkError.user_message` in the user's language (the same text in English)."""
    if not _translating(kind):
        return error.user_message()
    gettext = _KINDS[kind]
    explained = code_text(error.code)

    def translate(msgid: str) -> str:
        # Ark's own (English) words: its code says the same in the user's language.
        return gettext(explained) if msgid == ARK_WORDS and explained else gettext(msgid)

    return error.user_message(translate)


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


def unregister() -> None:
    try:
        _translations.unregister(__package__)
    except (ValueError, KeyError, RuntimeError):
        pass
