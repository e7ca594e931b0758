"""From an idea to a 3D task: prompt -> Seedream pictures -> the 3D model, one flow for every entry point.

Seed3D and Hitem3D take pictures only; Hyper3D takes text too.  An :class:`Idea` is what the
user gave (a prompt, pictures of their own, the 3D model and its parameters); :func:`plan_idea`
checks all of it before anything is paid for, and decides the way:

- a model that takes no text, given a prompt: pictures are made first (the user's own
  pictures, if any, go to Seedream as references: "the same object, on a plain background");
- Hyper3D, given a prompt: the text goes straight to it, or through pictures when asked
  (``through_pictures``), to look at them before paying for the 3D task;
- pictures of the user's own and no prompt: sent as they are, as before;
- named views (a multi-view set for Hyper3D or Hitem3D): made by Seedream's sequential
  generation from the prompt, or from the user's picture as the reference.

Then two paid steps, each a plain function a worker thread calls (the panel shows the
pictures between them): :func:`make_pictures` and :func:`create_from_plan`, which sends the
chosen pictures and records the chain in the library (:mod:`.chain`).  :func:`run_idea` does
both (the command line and the scripting API).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import assets
from .catalog import HITEM3D, ModelSpec, check_endpoint_id, find_model
from .chain import IMAGES_DIR, Chain, record_chain
from .client import ArkClient
from .create import create_body, submit_create
from .errors import ConfigError, ErrorCode
from .image_input import ImageInfo, check_image, image_input, probe_image
from .images import (
    DEFAULT_IMAGE_MODEL,
    GeneratedImage,
    ImageRequest,
    ImagesResult,
    generate_images,
    newest_image_model,
    size_pixels,
)
from .library import Library
from .messages import msg
from .prompting import bits_from_views, prompt_for_3d, views_from_bits

__all__ = ["Created", "Idea", "Plan", "create_from_plan", "make_pictures", "plan_idea", "prefer_listed", "run_idea"]

#: Square and well inside every 3D model's image limits (Seed3D: fewer than 4096 x 4096 pixels).
DEFAULT_SIZE = "2048x2048"
_MULTI_BITS = "--multi_images_bit"


@dataclass(frozen=True)
class Idea:
    """What the user asked for, as given; nothing is checked until :func:`plan_idea`."""

    model: str
    prompt: str = ""
    images: tuple[str, ...] = ()  # the user's own pictures: files or http(s) links
    params: Mapping[str, str] = field(default_factory=dict)  # the 3D model's, ``--name`` or short names
    image_model: str = ""  # "" : the default (the caller may pick the newest Ark lists first)
    helper: bool = True  # add what image-to-3D models need to the prompt (shown, removable)
    helper_text: str = ""  # the helper's words as the user edited them ("" : the built-in ones)
    views: tuple[str, ...] = ()  # a multi-view set to make: some of front, back, left, right
    count: int = 1  # pictures to make when no views are named
    size: str = DEFAULT_SIZE
    seed: int | None = None  # Seedream's
    through_pictures: bool = False  # Hyper3D: make pictures even though it reads text
    endpoint: str = ""  # ep-...: the 3D call names it instead of the model


@dataclass(frozen=True)
class Plan:
    """A checked idea: what each paid step will send."""

    idea: Idea
    spec: ModelSpec
    params: dict[str, str]  # checked, long names; Hitem3D's view bits set from the views
    inputs: tuple[str, ...]  # the user's pictures as sent (data URLs or links)
    image_request: ImageRequest | None  # None: straight to the 3D model
    added_prompt: str = ""
    views: tuple[str, ...] = ()

    @property
    def makes_pictures(self) -> bool:
        return self.image_request is not None

    def price_cny(self) -> tuple[float, float]:
        """(the pictures, the 3D task), at list prices: each shown before it is spent."""
        pictures = self.image_request.price_cny() if self.image_request is not None else 0.0
        return pictures, self.spec.price_cny(self.params)


@dataclass(frozen=True)
class Created:
    task_id: str
    chain: Chain
    pictures: list[Path]  # the pictures made, kept in the task's folder

    @property
    def used(self) -> list[str]:
        """What the 3D task was given: the pictures sent (their paths in the library), or the user's own."""
        kept = {f"{IMAGES_DIR}/{picture.name}": str(picture) for picture in self.pictures}
        return [kept.get(item, item) for item in self.chain.sent]


def _long_names(spec: ModelSpec, params: Mapping[str, str]) -> dict[str, str]:
    """``sl=high``, ``--sl=high`` and ``--subdivisionlevel=high`` alike: the flag's long name."""
    longer = {flag.short: flag.name for flag in spec.flags if flag.short}
    named: dict[str, str] = {}
    for name, value in params.items():
        flag = name.strip() if name.strip().startswith("--") else f"--{name.strip()}"
        named[longer.get(flag, flag)] = str(value)
    return named


def _reference(source: str) -> str:
    """A picture of the user's for Seedream: a link as given, a file as a data URL (checked to be a picture)."""
    if source.lower().startswith(("https://", "http://")):
        return source
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(msg("Cannot read the image {path}: {reason}", path=source, reason=exc.strerror or str(exc)),
                          code=ErrorCode.IMAGE_UNREADABLE, hint=msg("Pick an existing image file")) from None
    info = probe_image(data)
    return f"data:image/{info.format};base64,{base64.b64encode(data).decode('ascii')}"


def _named(source: str, read: Callable[[str], str]) -> str:
    """``read(source)``, its refusal naming the picture it is about (of several given, which one is wrong)."""
    try:
        return read(source)
    except ConfigError as exc:
        if source in exc.message:
            raise
        raise ConfigError(msg("{path}: {what}", path=source[:200], what=exc.what), code=exc.code,
                          hint=exc.hint) from None


def _views(spec: ModelSpec, idea: Idea, params: dict[str, str]) -> tuple[str, ...]:
    """The views to make: named, or Hitem3D's view bits as given in its parameters."""
    if idea.views:
        if spec.id != HITEM3D and spec.max_images < len(idea.views):
            raise ConfigError(msg("{model} takes at most {n} images", model=spec.name, n=str(spec.max_images)),
                              code=ErrorCode.INVALID_PARAMETER, hint=msg("Name fewer views"))
        bits = bits_from_views(idea.views)
        if spec.id == HITEM3D and len(idea.views) > 1:
            params[_MULTI_BITS] = bits
        return views_from_bits(bits)
    if spec.id == HITEM3D and params.get(_MULTI_BITS) and not idea.images:
        return views_from_bits(params[_MULTI_BITS])
    return ()


def _check_size_for(spec: ModelSpec, size: str) -> None:
    """A picture of this size must also be one the 3D model takes (Seed3D: under 4096 x 4096, ratio 0.4-2.5)."""
    pixels = size_pixels(size)
    if pixels is not None:
        check_image(ImageInfo("", pixels[0], pixels[1], 0), spec.images, spec.name)


def plan_idea(idea: Idea, image_model: str = DEFAULT_IMAGE_MODEL) -> Plan:
    """Check everything before any paid call (:class:`ConfigError`, naming what is wrong)."""
    spec = find_model(idea.model)
    params = _long_names(spec, idea.params)
    prompt = idea.prompt.strip()
    if idea.endpoint:
        check_endpoint_id(idea.endpoint)  # here, not at the create: the pictures before it are paid for
    if not prompt and not idea.images:
        raise ConfigError(msg("{model} needs a prompt or an image", model=spec.name), code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Give a picture of the object, or a prompt to make one from"))
    # A set of views is made from the prompt or from one picture; a prompt alone makes pictures for a model
    # that reads no text, or when the user wants to see them first.
    pictures = bool(idea.views) or (bool(prompt) and (not spec.prompt or idea.through_pictures))
    if not pictures:
        inputs = tuple(_named(source, lambda text: image_input(text, spec)) for source in idea.images)
        checked = spec.check(params, images=len(inputs), prompt=prompt if spec.prompt else "")
        create_body(spec.id, inputs, params=checked, prompt=prompt if spec.prompt else "",
                    endpoint=idea.endpoint)  # the last checks (links only, the seed)
        return Plan(idea, spec, checked, inputs, None)
    views = _views(spec, idea, params)
    count = len(views) if views else idea.count
    if count > spec.max_images:
        raise ConfigError(msg("{model} takes at most {n} images", model=spec.name, n=str(spec.max_images)),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Ask for fewer pictures"))
    sent = count if spec.max_images > 1 else 1
    checked = spec.check(params, images=sent)
    full, added = prompt_for_3d(prompt, idea.helper, views, idea.helper_text)
    references = tuple(_named(source, _reference) for source in idea.images)
    request = ImageRequest(idea.image_model or image_model, full, references, idea.size, count, idea.seed)
    request.check()
    _check_size_for(spec, idea.size)
    return Plan(idea, spec, checked, (), request, added, views)


def prefer_listed(client: ArkClient, plan: Plan) -> Plan:
    """The plan, its pictures asked of the newest Seedream Ark lists where the user named none.

    ``GET /models`` is free and not vital: when it fails the built-in default stands.
    """
    if plan.image_request is None or plan.idea.image_model:
        return plan
    return replace(plan, image_request=replace(plan.image_request, model=newest_image_model(client)))


def make_pictures(client: ArkClient, plan: Plan, dest_dir: Path) -> ImagesResult:
    """Step one (paid per picture): Seedream makes the plan's pictures into ``dest_dir``."""
    if plan.image_request is None:
        raise ValueError("this plan sends the prompt straight to the 3D model")
    return generate_images(client, plan.image_request, dest_dir)


def _to_send(plan: Plan, pictures: Sequence[GeneratedImage]) -> list[GeneratedImage]:
    """The pictures the 3D model gets: the whole set where it takes several, else the first."""
    wanted = len(plan.views) if plan.views else (plan.image_request.count if plan.image_request else 1)
    chosen = list(pictures[: min(wanted, plan.spec.max_images)])
    if plan.views and len(chosen) < len(plan.views):
        raise ConfigError(msg("Seedream made {n} of the {views} views asked for", n=str(len(chosen)),
                              views=str(len(plan.views))),
                          code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Generate the pictures again, or name fewer views"))
    for picture in chosen:
        check_image(probe_image(picture.path.read_bytes()), plan.spec.images, plan.spec.name)
    return chosen


def _picture_input(plan: Plan, picture: GeneratedImage) -> str:
    """A made picture as the 3D call takes it: its file as a data URL, or Seedream's link (Hitem3D takes links)."""
    if plan.spec.images.data_url:
        return image_input(picture.path, plan.spec)
    return picture.url or image_input(picture.path, plan.spec)


def create_from_plan(client: ArkClient, plan: Plan, pictures: Sequence[GeneratedImage], library: Library) -> Created:
    """Step two (paid): create the 3D task from the chosen pictures (or straight from the plan) and keep the chain."""
    chosen = _to_send(plan, pictures) if plan.makes_pictures else []
    inputs = [_picture_input(plan, picture) for picture in chosen] or list(plan.inputs)
    prompt = plan.idea.prompt.strip() if plan.spec.prompt and not plan.makes_pictures else ""
    params = dict(plan.params)
    if plan.views and len(chosen) > 1 and plan.spec.id == HITEM3D:
        params[_MULTI_BITS] = bits_from_views(plan.views[: len(chosen)])
    body = create_body(plan.spec.id, inputs, params=params, prompt=prompt, endpoint=plan.idea.endpoint)
    task_id = submit_create(client, body)
    request = plan.image_request
    chain = Chain(
        prompt=plan.idea.prompt.strip(), added_prompt=plan.added_prompt if request else "",
        image_model=request.model if request else "",
        image_params={"size": request.size, "count": request.count, "seed": request.seed,
                      "watermark": request.watermark, "references": list(plan.idea.images)} if request else {},
        views=bits_from_views(plan.views[: len(chosen)]) if plan.views else "",
        model=plan.spec.id, params=params, created_at=time.time())
    sent = [str(p.path) for p in chosen] or list(plan.idea.images)
    kept = record_chain(library, task_id, chain, [p.path for p in pictures], sent)
    folder = library.task_dir(task_id)
    _keep_input(library, task_id, [folder / name for name in kept.sent] + [Path(s) for s in kept.sent])
    return Created(task_id, kept, [folder / name for name in kept.images])


def _keep_input(library: Library, task_id: str, candidates: list[Path]) -> None:
    """The first picture sent, kept as the task's input image (the asset's and the browser's picture of it)."""
    for path in candidates:
        if path.is_file():
            assets.store_input(library, task_id, path)
            return


def run_idea(client: ArkClient, plan: Plan, library: Library, staging: Path) -> Created:
    """Both steps: the pictures (into ``staging``) when the plan makes them, then the 3D task."""
    pictures = make_pictures(client, plan, staging).images if plan.makes_pictures else []
    return create_from_plan(client, plan, pictures, library)
