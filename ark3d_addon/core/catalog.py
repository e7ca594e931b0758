"""The 3D models Ark serves, one definition each: inputs, documented flags, formats, faces, price.

Everything the add-on knows about a model lives in its :class:`ModelSpec`, from the model's
own Ark documentation (the README's "Models" section lists the sources): how many images it
takes and which, whether a prompt may go with them, each documented flag with its values and
default, the file formats (and how the flag spells them: Hitem3D sends codes), the faces each
level gives, and the price of a task.  Nothing undocumented is offered, so a create is checked
here, before anything is sent, against the same rules Ark applies.

Ark's own list (``GET /models``, :func:`available_models`) says which 3D models the account's
region offers and which are retiring; offline, the built-in list stands.  A user whose account
must call a model through an endpoint gives its id (``ep-...``): the body then names the
endpoint, and the spec of the model behind it still checks the parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, ErrorCode
from .messages import Message, msg, plural

__all__ = [
    "CATALOG",
    "DEFAULT_MODEL",
    "Flag",
    "ImageRules",
    "MODELS",
    "ModelInfo",
    "ModelSpec",
    "available_models",
    "check_endpoint_id",
    "find_model",
    "is_3d_model_id",
]

#: An Ark endpoint id as the console shows it (``ep-20250101123456-abcde``).
_ENDPOINT = re.compile(r"^ep-[A-Za-z0-9][A-Za-z0-9_-]{0,99}\Z")
#: The ``domain`` ``GET /models`` gives 3D generation models.
DOMAIN_3D = "3DGeneration"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Flag:
    """One documented ``--flag value`` of the text item.

    ``values`` lists the allowed values (``wire`` maps a value to what is sent, for Hitem3D's
    format codes); ``int_range`` bounds an integer flag instead.  ``default`` is Ark's default
    when the flag is left out (None: Ark documents none, and the add-on sends nothing).
    """

    name: str
    label: str
    values: tuple[str, ...] = ()
    default: str | None = None
    int_range: tuple[int, int] | None = None
    short: str = ""
    wire: Mapping[str, str] = field(default_factory=dict)
    pattern: str = ""  # a regular expression the value must match (bounding boxes, view bits)
    image_only: bool = False  # meaningful only with an image input


@dataclass(frozen=True)
class ImageRules:
    """What Ark accepts as input images for one model."""

    formats: tuple[str, ...]  # as probed: jpeg, png, webp, bmp
    max_bytes: int
    max_pixels: int = 4096 * 4096  # width x height must stay below this
    aspect: tuple[float, float] | None = None  # (min, max) of width / height, exclusive
    data_url: bool = True  # a base64 data URL is accepted (else only http(s) links)


@dataclass(frozen=True)
class ModelSpec:
    """One 3D model on Ark, as documented."""

    id: str
    name: str
    min_images: int
    max_images: int
    prompt: bool  # text may hold a prompt besides the flags
    prompt_max: int
    images: ImageRules
    flags: tuple[Flag, ...]
    format_flag: str  # the flag that chooses the file format
    level_flag: str  # the flag that chooses the density ("" if none)
    link_lifetime_s: int  # how long the result link lives
    #: Flags always sent, at their default when not set: what decides the format, faces and price,
    #: so the task made is the one whose hints the user saw.
    sent: tuple[str, ...] = ()
    seed: bool = False  # a top-level ``seed`` (0..65535) is accepted

    def flag(self, name: str) -> Flag:
        for flag in self.flags:
            if flag.name == name:
                return flag
        raise KeyError(name)

    @property
    def formats(self) -> tuple[str, ...]:
        return self.flag(self.format_flag).values

    def defaults(self) -> dict[str, str]:
        """Every flag that has a documented default, at that default."""
        return {f.name: f.default for f in self.flags if f.default is not None}

    def faces(self, params: Mapping[str, str]) -> Message:
        """How many faces these parameters give, as the documents say (a hint, not a promise)."""
        return _FACES[self.id](self, {**self.defaults(), **params})

    def price_cny(self, params: Mapping[str, str]) -> float:
        """What one task with these parameters costs, in CNY, at the documented list price."""
        return _PRICES[self.id]({**self.defaults(), **params})

    def cost(self, params: Mapping[str, str]) -> Message:
        return msg("about {price} CNY a task", price=f"{self.price_cny(params):.2f}")

    def check(self, params: Mapping[str, str], *, images: int, prompt: str = "") -> dict[str, str]:
        """The parameters, checked as Ark would check them; :class:`ConfigError` before any request.

        Returns them with the defaults of the flags always sent (:attr:`sent`) filled in.  A flag
        may be named in its short form (``--ff``, ``--sl``): it comes back under its long name.
        """
        params = self.long_names(params)
        if images < self.min_images or images > self.max_images:
            hint = (plural(self.min_images, "Give {n} image", "Give {n} images")
                    if self.min_images == self.max_images
                    else msg("Give between {low} and {high} images", low=str(self.min_images),
                             high=str(self.max_images)))
            raise ConfigError(_image_count(self, images), code=ErrorCode.INVALID_PARAMETER, hint=hint)
        if prompt and not self.prompt:
            raise ConfigError(msg("{model} takes no prompt: its text holds parameters only", model=self.name),
                              code=ErrorCode.INVALID_PARAMETER, hint=msg("Leave the prompt empty"))
        if len(prompt) > self.prompt_max:
            raise ConfigError(msg("The prompt has {n} characters; {model} reads at most {limit}", n=str(len(prompt)),
                                  model=self.name, limit=str(self.prompt_max)),
                              code=ErrorCode.INVALID_PARAMETER, hint=msg("Shorten the prompt"))
        if images == 0 and not prompt:
            raise ConfigError(msg("{model} needs a prompt or an image", model=self.name),
                              code=ErrorCode.INVALID_PARAMETER, hint=msg("Write a prompt or pick an image"))
        known = {f.name for f in self.flags}
        checked: dict[str, str] = {}
        for name, value in params.items():
            if name not in known:
                raise ConfigError(msg("{model} has no parameter {flag}", model=self.name, flag=name),
                                  code=ErrorCode.INVALID_PARAMETER,
                                  hint=msg("Its parameters are: {names}", names=", ".join(sorted(known))))
            flag = self.flag(name)
            text = str(value).strip()
            if text == "":
                continue
            if flag.image_only and images == 0:
                raise ConfigError(msg("{flag} applies to image input only", flag=name),
                                  code=ErrorCode.INVALID_PARAMETER, hint=msg("Leave it unset for a text prompt"))
            _check_value(self, flag, text)
            checked[name] = text
        _cross_checks(self, checked, images)
        defaults = self.defaults()
        return {**{name: defaults[name] for name in self.sent if name in defaults}, **checked}

    def parse(self, text: str) -> dict[str, str]:
        """Typed parameters (``--mesh_mode Raw --sl high``) as a dict, short names made long.

        Only the shape is checked here; :meth:`check` checks the names and values.
        """
        words = text.split()
        if len(words) % 2 or any(not word.startswith("--") for word in words[::2]):
            raise ConfigError(msg("Write the parameters as --name value pairs, not '{text}'", text=text[:80]),
                              code=ErrorCode.INVALID_PARAMETER, hint=msg("For example: {example}",
                                                                          example=" ".join(self._example())))
        return self.long_names(dict(zip(words[::2], words[1::2], strict=True)))

    def long_names(self, params: Mapping[str, str]) -> dict[str, str]:
        """The parameters with each flag's short form (``--ff``) written as its long name (``--fileformat``)."""
        longer = {flag.short: flag.name for flag in self.flags if flag.short}
        return {longer.get(name, name): value for name, value in params.items()}

    def _example(self) -> list[str]:
        flag = next((f for f in self.flags if f.values and f.name != self.format_flag), self.flags[0])
        return [flag.name, flag.values[-1] if flag.values else str(flag.int_range[0] if flag.int_range else "")]

    def text(self, params: Mapping[str, str], prompt: str = "") -> str:
        """The text item: the prompt (where allowed), then ``--flag value`` for each parameter."""
        words = [prompt.strip()] if prompt.strip() else []
        for flag in self.flags:
            if flag.name in params:
                value = params[flag.name]
                words.append(f"{flag.name} {flag.wire.get(value, value)}")
        return " ".join(words)


def _image_count(spec: ModelSpec, images: int) -> Message:
    if spec.max_images == 1:
        return msg("{model} takes exactly one image, not {n}", model=spec.name, n=str(images))
    return msg("{model} takes {low} to {high} images, not {n}", model=spec.name, low=str(spec.min_images),
               high=str(spec.max_images), n=str(images))


def _check_value(spec: ModelSpec, flag: Flag, value: str) -> None:
    if flag.values and value not in flag.values:
        raise ConfigError(msg("{model}: {flag} cannot be '{value}'", model=spec.name, flag=flag.name, value=value),
                          code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Use one of: {values}", values=", ".join(flag.values)))
    if flag.int_range is not None:
        low, high = flag.int_range
        if not re.fullmatch(r"\d{1,9}", value) or not low <= int(value) <= high:
            raise ConfigError(msg("{model}: {flag} must be a whole number from {low} to {high}, not '{value}'",
                                  model=spec.name, flag=flag.name, low=f"{low:,}", high=f"{high:,}", value=value),
                              code=ErrorCode.INVALID_PARAMETER, hint=msg("Give a number in that range"))
    if flag.pattern and not re.fullmatch(flag.pattern, value):
        raise ConfigError(msg("{model}: {flag} cannot be '{value}'", model=spec.name, flag=flag.name, value=value),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Write it as {example}", example=flag.label))


def _cross_checks(spec: ModelSpec, params: Mapping[str, str], images: int) -> None:
    """Rules between flags: Hyper3D's face count by mesh mode, Hitem3D's views against the images."""
    if spec.id == HYPER3D and "--quality_override" in params:
        mode = params.get("--mesh_mode", "Quad")
        low, high = (500, 1_000_000) if mode == "Raw" else (1_000, 200_000)
        faces = int(params["--quality_override"])
        if not low <= faces <= high:
            raise ConfigError(msg("{model}: with mesh mode {mode}, --quality_override must be from {low} to {high}",
                                  model=spec.name, mode=mode, low=f"{low:,}", high=f"{high:,}"),
                              code=ErrorCode.INVALID_PARAMETER, hint=msg("Give a number in that range"))
    bits = params.get("--multi_images_bit")
    if bits is not None and bits.count("1") != images:
        raise ConfigError(msg("--multi_images_bit {bits} names {views} views but {n} images are given",
                              bits=bits, views=str(bits.count("1")), n=str(images)),
                          code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("One 1 per image, in the order front, back, left, right"))


SEED3D_1 = "doubao-seed3d-1-0-250928"
SEED3D_2 = "doubao-seed3d-2-0-260328"
HYPER3D = "hyper3d-gen2-260112"
HITEM3D = "hitem3d-2-0-251223"

_SEED3D_IMAGES = ImageRules(("jpeg", "png", "webp", "bmp"), 10 * MIB, aspect=(0.4, 2.5))
_LEVELS = ("low", "medium", "high")


def _seed3d_flags() -> tuple[Flag, ...]:
    return (
        Flag("--subdivisionlevel", "Subdivision Level", _LEVELS, "medium", short="--sl"),
        Flag("--fileformat", "File Format", ("glb", "obj", "usd", "usdz"), "glb", short="--ff"),
    )


CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec(SEED3D_1, "Seed3D 1.0", 1, 1, False, 0, _SEED3D_IMAGES, _seed3d_flags(),
              "--fileformat", "--subdivisionlevel", 86_400, ("--subdivisionlevel", "--fileformat")),
    ModelSpec(SEED3D_2, "Seed3D 2.0", 1, 1, False, 0, _SEED3D_IMAGES, _seed3d_flags(),
              "--fileformat", "--subdivisionlevel", 86_400, ("--subdivisionlevel", "--fileformat")),
    ModelSpec(
        HYPER3D, "Hyper3D Gen2", 0, 5, True, 400, ImageRules(("jpeg", "png"), 30 * MIB),
        (
            Flag("--mesh_mode", "Mesh Mode", ("Raw", "Quad"), "Quad"),
            Flag("--material", "Material", ("PBR", "Shaded", "All", "None"), "PBR"),
            Flag("--hd_texture", "HD Texture", ("true", "false"), "false"),
            Flag("--addons", "Add-ons", ("HighPack",)),
            Flag("--quality_override", "Faces", int_range=(500, 1_000_000)),
            Flag("--use_original_alpha", "Original Alpha", ("true", "false"), "false", image_only=True),
            Flag("--bbox_condition", "[width,height,length]", pattern=r"\[\d{1,5},\d{1,5},\d{1,5}\]"),
            Flag("--TAPose", "T/A Pose", ("true", "false"), "false"),
            Flag("--subdivisionlevel", "Subdivision Level", _LEVELS, short="--sl"),
            Flag("--fileformat", "File Format", ("glb", "obj", "usdz", "fbx", "stl"), "glb", short="--ff"),
        ),
        "--fileformat", "--subdivisionlevel", 604_800, ("--fileformat",), seed=True,
    ),
    ModelSpec(
        HITEM3D, "Hitem3D 2.0", 1, 4, False, 0, ImageRules(("jpeg", "png", "webp"), 10 * MIB, data_url=False),
        (
            Flag("--fileformat", "File Format", ("obj", "glb", "stl", "fbx", "usdz"), "obj", short="--ff",
                 wire={"obj": "1", "glb": "2", "stl": "3", "fbx": "4", "usdz": "5"}),
            Flag("--resolution", "Resolution", ("1536", "1536pro"), "1536"),
            Flag("--face", "Faces", int_range=(100_000, 2_000_000)),
            Flag("--request_type", "Request Type", ("1", "3"), "3"),
            Flag("--multi_images_bit", "1100 (front, back, left, right)", pattern=r"[01]{4}"),
        ),
        "--fileformat", "", 604_800, ("--fileformat", "--resolution", "--request_type"),
    ),
)
DEFAULT_MODEL = SEED3D_1
#: The model ids, in the catalog's order (the scripting API's ``ark.MODELS``).
MODELS = tuple(spec.id for spec in CATALOG)

_FACES_SEED3D = {SEED3D_1: (30_000, 100_000, 200_000), SEED3D_2: (100_000, 500_000, 1_000_000)}
_FACES_HYPER3D = {"Raw": (20_000, 150_000, 500_000), "Quad": (8_000, 18_000, 50_000)}


def _seed3d_faces(spec: ModelSpec, params: Mapping[str, str]) -> Message:
    faces = _FACES_SEED3D[spec.id][_LEVELS.index(params["--subdivisionlevel"])]
    return msg("about {faces} faces", faces=f"{faces:,}")


def _hyper3d_faces(spec: ModelSpec, params: Mapping[str, str]) -> Message:
    if "--quality_override" in params:
        return msg("about {faces} faces", faces=f"{int(params['--quality_override']):,}")
    mode = params["--mesh_mode"]
    level = params.get("--subdivisionlevel") or ("high" if mode == "Raw" else "medium")
    return msg("about {faces} faces", faces=f"{_FACES_HYPER3D[mode][_LEVELS.index(level)]:,}")


def _hitem3d_faces(spec: ModelSpec, params: Mapping[str, str]) -> Message:
    if "--face" in params:
        return msg("about {faces} faces", faces=f"{int(params['--face']):,}")
    return msg("{low} to {high} faces", low="100,000", high="2,000,000")


_FACES = {SEED3D_1: _seed3d_faces, SEED3D_2: _seed3d_faces, HYPER3D: _hyper3d_faces, HITEM3D: _hitem3d_faces}
#: CNY a task (list prices: the README's "Models" table gives the sources).
_HITEM3D_PRICES = {("1536", "1"): 5.80, ("1536", "3"): 10.15, ("1536pro", "1"): 8.70, ("1536pro", "3"): 13.05}
_PRICES = {
    SEED3D_1: lambda p: 2.40,
    SEED3D_2: lambda p: 2.40,
    HYPER3D: lambda p: 1.80,
    HITEM3D: lambda p: _HITEM3D_PRICES[(p["--resolution"], p["--request_type"])],
}


def find_model(model_id: str) -> ModelSpec:
    """The spec of ``model_id``; :class:`ConfigError` for a model the add-on cannot check."""
    for spec in CATALOG:
        if spec.id == model_id:
            return spec
    raise ConfigError(msg("'{model}' is not a 3D model this add-on knows", model=model_id[:80]),
                      code=ErrorCode.INVALID_PARAMETER,
                      hint=msg("Pick one of: {models}", models=", ".join(s.id for s in CATALOG)))


def is_3d_model_id(model: str) -> bool:
    """Whether a task's ``model`` names a 3D model: a known id, or one of their families' later versions."""
    return any(model.startswith(prefix) for prefix in ("doubao-seed3d-", "hyper3d-", "hitem3d-"))


def check_endpoint_id(text: str) -> str:
    """A typed endpoint id, trimmed; :class:`ConfigError` if it is not one."""
    value = (text or "").strip()
    if not _ENDPOINT.match(value):
        raise ConfigError(msg("'{text}' is not an Ark endpoint id", text=value[:60]),
                          code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("An endpoint id looks like ep-20250101123456-abcde (the Ark console lists yours)"))
    return value


@dataclass(frozen=True)
class ModelInfo:
    """One line of the model menu: the spec, and what Ark's list says of it."""

    spec: ModelSpec
    status: str = ""  # "", "Retiring" (Ark's list marks it so)
    listed: bool = False  # Ark's list was asked and has it (False: the built-in list)
    #: Ark's list was asked and leaves it out: still offered (the list may lag behind a model the
    #: account can call, and a create says ModelNotOpen if it cannot), shown as unlisted.
    unlisted: bool = False

    @property
    def retiring(self) -> bool:
        return self.status.lower() == "retiring"


def available_models(listing: list[dict[str, Any]] | None) -> list[ModelInfo]:
    """The model menu: from Ark's ``GET /models`` answer (``data``), or built in when None.

    Only 3D models (domain ``3DGeneration``) the add-on has a spec for are offered; shut-down
    ones are left out, retiring ones marked, and ones the list leaves out marked unlisted (never
    hidden).  Ark lists its catalog, not what the account has activated: a model that is not
    open to the account fails its create with ``ModelNotOpen``.
    """
    if listing is None:
        return [ModelInfo(spec) for spec in CATALOG]
    rows = {str(row.get("id")): row for row in listing if isinstance(row, dict)}
    found: list[ModelInfo] = []
    for spec in CATALOG:
        row = rows.get(spec.id)
        if row is None:
            found.append(ModelInfo(spec, unlisted=True))
            continue
        if row.get("domain") not in (DOMAIN_3D, None):
            continue
        status = str(row.get("status") or "")
        if status.lower() == "shutdown":
            continue
        found.append(ModelInfo(spec, status, listed=True))
    return found
