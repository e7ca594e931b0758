"""``enum.StrEnum`` for every Python the add-on runs on (Blender 3.4 bundles Python 3.10, which lacks it).

Members are ``str``: they compare equal to their values, go into JSON as them, and print as
them on every Python (a plain ``(str, Enum)`` prints ``Class.MEMBER`` in f-strings on 3.11+).
"""

from __future__ import annotations

import enum

__all__ = ["StrEnum"]


class StrEnum(str, enum.Enum):
    """A string enumeration whose members read as their values."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
