"""Another round of pictures before the 3D task: again, from a reference, one view redone, views dropped.

The Generate section shows Seedream's pictures before the 3D task is paid for; the user may
not like them.  Each way to try again is an :class:`~.idea.Idea` made from the last one, so
:func:`~.idea.plan_idea` checks it and prices it as any other:

- :func:`again`: the same idea with a new seed (Seedream makes other pictures);
- :func:`from_reference`: a picture the user liked goes to Seedream as its image input,
  asking for the same object on a plain background;
- :func:`redo_view`: one view of a multi-view set made again, the set's other pictures as
  references so the object stays the same;
- :func:`keep_views`: a set with views dropped, sent with the view bits of what is left.

What a round adds to the prompt is returned by :func:`reference_text` so the panel shows it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .catalog import HITEM3D
from .errors import ConfigError, ErrorCode
from .idea import Idea, Plan
from .messages import msg
from .prompting import VIEWS, bits_from_views

__all__ = ["again", "from_reference", "keep_views", "new_seed", "redo_view", "reference_text"]

_MULTI_BITS = "--multi_images_bit"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_SAME = "The same object as in the reference picture, on a plain background."
_SAME_ZH = "与参考图中完全相同的物体，纯色背景。"
_VIEW = ("The {view} view of the very same object as in the reference pictures: "
         "identical shape, colours and proportions.")
_VIEW_ZH = "参考图中同一物体的{view}视图，造型、颜色和比例完全一致。"
_VIEWS_ZH = {"front": "正面", "back": "背面", "left": "左侧", "right": "右侧"}


def new_seed() -> int:
    """A seed Seedream takes (0 .. 2^31 - 1): another seed, other pictures."""
    return random.randint(0, 2**31 - 1)


def again(idea: Idea) -> Idea:
    """The same idea with a new seed."""
    return replace(idea, seed=new_seed())


def reference_text(prompt: str, view: str = "") -> str:
    """What a reference round adds to the user's prompt, in the prompt's language."""
    chinese = bool(_CJK.search(prompt or ""))
    if view:
        return _VIEW_ZH.format(view=_VIEWS_ZH[view]) if chinese else _VIEW.format(view=view)
    return _SAME_ZH if chinese else _SAME


def _joined(prompt: str, added: str) -> str:
    words = (prompt or "").strip()
    if not words:
        return added
    return f"{words}{'' if _CJK.search(words) else ' '}{added}"


def from_reference(idea: Idea, picture: Path) -> Idea:
    """A round with ``picture`` as Seedream's image input: the same object, on a plain background.

    Pictures are made even for Hyper3D (which reads text), since the point is to see them.
    """
    return replace(idea, prompt=_joined(idea.prompt, reference_text(idea.prompt)), images=(str(picture),),
                   through_pictures=True, seed=new_seed())


def redo_view(idea: Idea, views: Sequence[str], index: int, pictures: Sequence[Path]) -> Idea:
    """One picture: view ``views[index]`` again, the set's other pictures as references."""
    if not 0 <= index < len(views) or views[index] not in VIEWS or len(pictures) != len(views):
        raise ConfigError(msg("There is no view {n} in this set", n=str(index + 1)),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Make the pictures again"))
    others = tuple(str(path) for i, path in enumerate(pictures) if i != index)
    return replace(idea, prompt=_joined(idea.prompt, reference_text(idea.prompt, views[index])), images=others,
                   views=(), count=1, through_pictures=True, seed=new_seed())


def keep_views(plan: Plan, views: Sequence[str]) -> Plan:
    """The plan sending only ``views`` (some of its own, in its order): Hitem3D's view bits follow."""
    kept = tuple(view for view in plan.views if view in views)
    if not kept:
        raise ConfigError(msg("A set needs at least one view"), code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Make the pictures again"))
    params = dict(plan.params)
    if plan.spec.id == HITEM3D:
        params.pop(_MULTI_BITS, None)
        if len(kept) > 1:
            params[_MULTI_BITS] = bits_from_views(kept)
    return replace(plan, views=kept, params=params)
