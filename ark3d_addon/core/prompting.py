"""The prompt helper: what an image meant for an image-to-3D model must show, added visibly.

Seed3D, Hyper3D and Hitem3D rebuild one object from its picture: an object cut by the frame,
lost in a scene or standing on a busy background comes back as a broken or merged mesh.  So
a prompt for such a picture asks for one whole object, centred, on a plain background, with
nothing cropped.  The text added is returned apart from the user's words, so the panel shows
it and the user can turn it off: nothing is slipped into a paid call unseen.

Multi-view sets (Hyper3D up to 5 images, Hitem3D up to 4 with view bits front/back/left/right)
are asked of Seedream's sequential generation as one set of the same object seen from the
named sides, in that order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import ConfigError, ErrorCode
from .messages import msg

__all__ = ["HELPER_TEXT", "HELPER_TEXT_ZH", "VIEWS", "bits_from_views", "prompt_for_3d", "views_from_bits"]

#: The sides a multi-view set names, in the order Hitem3D's ``--multi_images_bit`` gives them.
VIEWS = ("front", "back", "left", "right")
HELPER_TEXT = ("One single whole object, centred, fully in frame with nothing cropped, on a plain white background, "
               "soft even lighting, no text, no other objects.")
HELPER_TEXT_ZH = "单个完整物体，居中，完整入画、无裁切，纯白背景，柔和均匀光照，无文字，无其他物体。"
_VIEWS_ZH = {"front": "正面", "back": "背面", "left": "左侧", "right": "右侧"}
#: Kana, CJK ideographs and Hangul, as code point ranges: a regular expression of them takes
#: 4 ms to compile at import, which every Blender start with the add-on enabled would pay.
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF))


def views_from_bits(bits: str) -> tuple[str, ...]:
    """``"1010"`` -> ``("front", "left")``: Hitem3D's view bits as names."""
    if not re.fullmatch(r"[01]{4}", bits or ""):
        raise ConfigError(msg("View bits must be four digits 0 or 1 (front, back, left, right), not '{bits}'",
                              bits=str(bits)[:20]),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("For example: 1100 (front and back)"))
    return tuple(view for view, bit in zip(VIEWS, bits, strict=True) if bit == "1")


def bits_from_views(views: Sequence[str]) -> str:
    """``("front", "left")`` -> ``"1010"``; :class:`ConfigError` for a name that is no view, or a repeat."""
    wanted = [view.strip().lower() for view in views]
    unknown = [view for view in wanted if view not in VIEWS]
    if unknown or len(set(wanted)) != len(wanted):
        raise ConfigError(msg("Views must be some of {views}, each once, not '{given}'", views=", ".join(VIEWS),
                              given=",".join(views)[:60]),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("For example: front,back"))
    return "".join("1" if view in wanted else "0" for view in VIEWS)


def _views_text(views: Sequence[str], chinese: bool) -> str:
    if chinese:
        sides = "、".join(_VIEWS_ZH[view] for view in views)
        return f"生成同一物体的{len(views)}张图，依次为{sides}视图，造型、颜色和比例完全一致。"
    sides = ", ".join(f"{view} view" for view in views)
    return (f"A set of {len(views)} images of the very same object, in this order: {sides}; "
            "identical shape, colours and proportions in every image.")


def prompt_for_3d(user_prompt: str, enabled: bool = True, views: Sequence[str] = (), text: str = "") -> tuple[str, str]:
    """The prompt sent to Seedream and the text the helper added (``""`` when turned off).

    ``text``: the user's own wording of the helper (the panel lets it be edited); ``""`` is
    the built-in one, which speaks the prompt's language (Chinese for a prompt with CJK characters).  The
    views' sentence is part of what is added, so turning the helper off drops it too; the
    set's size still comes from ``max_images``.
    """
    words = (user_prompt or "").strip()
    if not enabled:
        return words, ""
    chinese = any(low <= ord(ch) <= high for ch in words for low, high in _CJK_RANGES)
    parts = [_views_text(views, chinese)] if len(views) > 1 else []
    parts.append(text.strip() or (HELPER_TEXT_ZH if chinese else HELPER_TEXT))
    added = ("" if chinese else " ").join(parts)
    if not words:
        return added, added
    joiner = "" if chinese else " "
    return f"{words}{joiner}{added}", added
