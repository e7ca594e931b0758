"""How a task was made, kept beside its result: the idea, the pictures, which were sent.

A task made from an idea went through Seedream first.  The library keeps that chain so the
user can see it later (the Tasks browser, ``list --json``, the asset's description) and reuse
the prompt or a picture.  It lives in the task's folder, readable text next to Ark's own
``task.json`` (which the job rewrites as the task changes; the chain is never rewritten)::

    <root>/<task id>/chain.json     the record below (JSON, indent 2)
                     images/        the pictures Seedream made (image-1.png, ...)

``sent`` names what the 3D task was given: picture files relative to the task's folder
(``images/image-2.png``), or the user's own links and file names when no picture was made.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .library import Library, _write_atomic

__all__ = ["CHAIN_FILE", "IMAGES_DIR", "Chain", "load_chain", "read_chain", "record_chain"]

CHAIN_FILE = "chain.json"
IMAGES_DIR = "images"


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(item)[:2000] for item in value) if isinstance(value, list) else ()


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Chain:
    """The chain of one task: the user's prompt, what the helper added, the image call, the 3D call."""

    prompt: str = ""  # the user's own words
    added_prompt: str = ""  # what the prompt helper added ("" when off, or no picture was made)
    image_model: str = ""  # the Seedream model, "" when no picture was made
    image_params: dict[str, Any] = field(default_factory=dict)  # size, count, seed, watermark, references
    images: tuple[str, ...] = ()  # the pictures made, relative to the task folder
    sent: tuple[str, ...] = ()  # what the 3D task was given (files relative to the task folder, or links)
    views: str = ""  # Hitem3D's view bits (front, back, left, right) of the pictures sent, "" when none
    model: str = ""  # the 3D model
    params: dict[str, str] = field(default_factory=dict)  # the 3D model's parameters as sent
    created_at: float = 0.0

    @property
    def full_prompt(self) -> str:
        """What Seedream was sent: the user's words, then the helper's."""
        return " ".join(part for part in (self.prompt, self.added_prompt) if part)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1, "prompt": self.prompt, "added_prompt": self.added_prompt, "image_model": self.image_model,
            "image_params": self.image_params, "images": list(self.images), "sent": list(self.sent),
            "views": self.views, "model": self.model, "params": self.params, "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chain:
        """Leniently: a field of the wrong type reads as empty, never an exception."""
        created = data.get("created_at")
        return cls(
            prompt=str(data.get("prompt") or "")[:10000],
            added_prompt=str(data.get("added_prompt") or "")[:2000],
            image_model=str(data.get("image_model") or "")[:200],
            image_params=_mapping(data.get("image_params")),
            images=_strings(data.get("images")),
            sent=_strings(data.get("sent")),
            views=str(data.get("views") or "")[:8],
            model=str(data.get("model") or "")[:200],
            params={str(k): str(v) for k, v in _mapping(data.get("params")).items()},
            created_at=float(created) if isinstance(created, (int, float)) and not isinstance(created, bool) else 0.0,
        )


def record_chain(library: Library, task_id: str, chain: Chain, pictures: list[Path], sent: list[str]) -> Chain:
    """Copy the pictures into the task's ``images/`` and write ``chain.json``; returns the chain as kept.

    ``sent`` lists what the 3D task was given: a path among ``pictures`` is recorded by its
    name in the folder, anything else (a link, the user's file) as given.
    """
    folder = library.task_dir(task_id)
    images = folder / IMAGES_DIR
    images.mkdir(parents=True, exist_ok=True)
    kept: dict[str, str] = {}
    for picture in pictures:
        target = images / picture.name
        if picture.resolve() != target.resolve():
            shutil.copyfile(picture, target)
        kept[str(picture)] = f"{IMAGES_DIR}/{picture.name}"
    final = Chain(**{**chain.__dict__, "images": tuple(kept.values()),
                     "sent": tuple(kept.get(item, item) for item in sent),
                     "created_at": chain.created_at or time.time()})
    _write_atomic(folder / CHAIN_FILE, json.dumps(final.to_json(), ensure_ascii=False, indent=2) + "\n")
    return final


def load_chain(library: Library, task_id: str) -> Chain | None:
    """The task's chain, None when it was not made from an idea (or the file is unreadable)."""
    return read_chain(library.task_dir(task_id) / CHAIN_FILE)


def read_chain(path: Path) -> Chain | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Chain.from_json(data) if isinstance(data, dict) else None
