"""Texts a user reads, as a message id plus parameters: translated by id, never parsed back.

The core speaks English and knows nothing of languages.  Every text it builds for a person
(an error, a job's progress, a connection check) is a :class:`Message`: ``msgid`` is the
English ``str.format`` template, ``params`` the values to put in.  English is
``msgid.format(**params)``; another language looks the same ``msgid`` up in its catalog (the
Blender layer passes Blender's ``pgettext`` as ``translate``) and formats that the same way,
so the interface never has to guess from a rendered sentence which template made it.

Values are already text when they go in (sizes, durations and counts are formatted by the
core), so a translation only moves them around.  A value may itself be a :class:`Message`
(a reason inside a sentence): it is translated in turn; or an ``ArkError`` (why a list could
not be read): ``str()`` gives its English, the Blender layer its translation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["ARK_WORDS", "Message", "ark_words", "format_bytes", "format_duration", "msg", "plural", "verbatim"]

#: The msgid of Ark's own words (an error message it sent): the interface may explain the error's code instead.
ARK_WORDS = "{ark_message}"


def _same(msgid: str) -> str:
    return msgid


class Message:
    """An English template and its values; :meth:`render` in any language that has a catalog.

    A plain class, not a dataclass: a dataclass writes and compiles its methods when the module is
    imported, which every Blender start with the add-on enabled would pay.  Equal when both parts are.
    """

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, params: Mapping[str, object] | None = None) -> None:
        self.msgid = msgid
        self.params: Mapping[str, object] = {} if params is None else params

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.msgid == other.msgid and self.params == other.params

    __hash__ = None  # type: ignore[assignment]  # its params are a dict: equal by value, not hashable

    def __repr__(self) -> str:
        return f"Message(msgid={self.msgid!r}, params={self.params!r})"

    def render(self, translate: Callable[[str], str] = _same) -> str:
        """The text in the language of ``translate`` (English by default), nested messages too.

        A translation whose placeholders do not fit (a broken catalog entry) falls back to the
        English template rather than lose the message.
        """
        values = {k: v.render(translate) if isinstance(v, Message) else v for k, v in self.params.items()}
        try:
            return translate(self.msgid).format(**values)
        except (KeyError, IndexError, ValueError):
            return self.msgid.format(**values)

    def __str__(self) -> str:
        return self.render()


def msg(msgid: str, **params: object) -> Message:
    """Shorthand for ``Message(msgid, params)``; the call sites read like the sentence they make."""
    return Message(msgid, params)


def plural(n: int, one: str, many: str, **params: object) -> Message:
    """``one`` for exactly one, else ``many``; both get ``{n}`` (with thousands separators).

    Two msgids rather than a plural rule: English needs no more, and Chinese translates both alike.
    """
    return Message(one if n == 1 else many, {"n": f"{n:,}", **params})


def ark_words(text: str) -> Message:
    """What Ark said (an error's message), in English as Ark sent it."""
    return Message(ARK_WORDS, {"ark_message": text})


def verbatim(text: str) -> Message:
    """A text that is not ours to translate (Ark's own words, an operating system's error)."""
    return Message("{text}", {"text": text})


def format_bytes(n: float) -> str:
    """A size as people read it (decimal units, as file managers and Ark's console show them)."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def format_duration(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on: how long a task has run, how long a link has left."""
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
