"""Pictures from Seedream, Ark's image model: ``POST {base}/images/generations``, same key and base URL.

Seed3D and Hitem3D need a picture; most people start from an idea.  Seedream turns the idea
into pictures the user looks at before paying for the 3D task.  The documented fields and
limits, with their sources and what is unconfirmed, are in ``docs/ark-api-notes.md``; the
rules of each model are :class:`ImageModel` rows here, checked before anything is sent:

- ``size``: ``"1K"`` (4.0 only), ``"2K"``, ``"4K"`` or ``"WxH"`` within the model's total-pixel
  range and an aspect ratio within 1/16..16;
- up to 14 reference pictures (links or data URLs), and references + pictures made <= 15;
- several pictures come from ``sequential_image_generation: "auto"`` with ``max_images``;
- ``watermark`` defaults to true on Ark: a picture meant for a 3D model is always asked
  without it (:class:`ImageRequest` sends ``false`` unless told), or the mark ends up baked
  into the model's texture.

The call is synchronous and paid per picture, so it is never retried after a timeout or a
5xx (it may have been charged); a 429 made nothing and is asked again after Ark's wait.  The
pictures are asked as links (``response_format: url``, kept 24 hours by Ark) and saved at
once (or asked as ``b64_json`` and decoded).  Network work only: call it from a worker.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import ArkClient
from .errors import ApiError, ArkError, ConfigError, ErrorCode, NetworkError, scrub
from .image_input import probe_image
from .messages import Message, msg

__all__ = [
    "DEFAULT_IMAGE_MODEL",
    "IMAGE_MODELS",
    "GeneratedImage",
    "ImageModel",
    "ImageRequest",
    "ImagesResult",
    "SEEDREAM_4_0",
    "SEEDREAM_4_5",
    "find_image_model",
    "generate_images",
    "newest_image_model",
    "pick_image_model",
    "size_pixels",
]

SEEDREAM_4_0 = "doubao-seedream-4-0-250828"
SEEDREAM_4_5 = "doubao-seedream-4-5-251128"
_FAMILY = "doubao-seedream-"
#: ``GET /models``' domain of image generation models.
DOMAIN_IMAGE = "ImageGeneration"
#: Ark's size words and the square they stand for (the model picks the aspect from the prompt).
_SIZE_WORDS = {"1K": 1024, "2K": 2048, "4K": 4096}
_WXH = re.compile(r"^\s*(\d{2,5})\s*[xX*]\s*(\d{2,5})\s*$")
_EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "bmp": ".bmp"}


@dataclass(frozen=True)
class ImageModel:
    """One Seedream model's documented limits and list price (``docs/ark-api-notes.md``)."""

    id: str
    name: str
    sizes: tuple[str, ...]  # the size words it takes
    min_pixels: int
    max_pixels: int
    price_cny: float  # a picture
    aspect: tuple[float, float] = (1 / 16, 16.0)
    max_references: int = 14
    max_total: int = 15  # references + pictures made

    def cost(self, count: int) -> Message:
        return msg("about {price} CNY for {n} picture(s)", price=f"{self.price_cny * count:.2f}", n=str(count))


IMAGE_MODELS: tuple[ImageModel, ...] = (
    ImageModel(SEEDREAM_4_5, "Seedream 4.5", ("2K", "4K"), 2560 * 1440, 4096 * 4096, 0.25),
    ImageModel(SEEDREAM_4_0, "Seedream 4.0", ("1K", "2K", "4K"), 1280 * 720, 4096 * 4096, 0.20),
)
DEFAULT_IMAGE_MODEL = SEEDREAM_4_5


def find_image_model(model_id: str) -> ImageModel:
    """The rules of ``model_id``; a later Seedream (``doubao-seedream-...``) gets the newest known rules."""
    for model in IMAGE_MODELS:
        if model.id == model_id:
            return model
    if model_id.startswith(_FAMILY) and re.fullmatch(r"[a-z0-9-]{1,80}", model_id):
        newest = IMAGE_MODELS[0]
        return ImageModel(model_id, model_id, newest.sizes, newest.min_pixels, newest.max_pixels, newest.price_cny)
    raise ConfigError(msg("'{model}' is not a Seedream image model", model=model_id[:80]),
                      code=ErrorCode.INVALID_PARAMETER,
                      hint=msg("Pick one of: {models}", models=", ".join(m.id for m in IMAGE_MODELS)))


def pick_image_model(listing: list[dict[str, Any]] | None) -> str:
    """The newest Seedream that Ark's ``GET /models`` lists (not shut down); the default without a list."""
    rows = [row for row in listing or [] if str(row.get("id", "")).startswith(_FAMILY)
            and row.get("domain") in (DOMAIN_IMAGE, None) and str(row.get("status") or "").lower() != "shutdown"]
    if not rows:
        return DEFAULT_IMAGE_MODEL

    def created(row: dict[str, Any]) -> int:
        value = row.get("created")
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return str(max(rows, key=lambda row: (created(row), str(row["id"])))["id"])


def newest_image_model(client: ArkClient) -> str:
    """:func:`pick_image_model` of Ark's list; the default when the list cannot be had (it is free, not vital)."""
    try:
        return pick_image_model(client.list_models())
    except ArkError:
        return DEFAULT_IMAGE_MODEL


def size_pixels(size: str) -> tuple[int, int] | None:
    """``"2048x2048"`` -> (2048, 2048); a size word -> its square; None for neither."""
    text = (size or "").strip()
    if text.upper() in _SIZE_WORDS:
        side = _SIZE_WORDS[text.upper()]
        return side, side
    match = _WXH.match(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _bad(what: Message, hint: Message) -> ConfigError:
    return ConfigError(what, code=ErrorCode.INVALID_PARAMETER, hint=hint)


@dataclass(frozen=True)
class ImageRequest:
    """One call to Seedream: what is asked, checked (:meth:`check`) before it is sent (:meth:`body`)."""

    model: str
    prompt: str
    references: tuple[str, ...] = ()  # https links or data URLs
    size: str = "2K"
    count: int = 1  # > 1: a sequential set of up to this many
    seed: int | None = None
    watermark: bool = False  # Ark's default is true: an image for 3D must not carry the mark
    response_format: str = "url"  # or "b64_json"; Hitem3D needs Seedream's links (it takes no files)

    @property
    def spec(self) -> ImageModel:
        return find_image_model(self.model)

    def check(self) -> None:
        """Refuse, naming the limit, what Seedream would refuse (:class:`ConfigError`)."""
        spec = self.spec
        if not self.prompt.strip():
            raise _bad(msg("Seedream needs a prompt"), msg("Describe the object to make"))
        self._check_size(spec)
        if len(self.references) > spec.max_references:
            raise _bad(msg("{model} takes at most {n} reference pictures, not {given}", model=spec.name,
                           n=str(spec.max_references), given=str(len(self.references))),
                       msg("Give fewer pictures"))
        most = spec.max_total - len(self.references)
        if not 1 <= self.count <= most:
            raise _bad(msg("{model} makes 1 to {n} pictures with {refs} reference(s), not {count}", model=spec.name,
                           n=str(most), refs=str(len(self.references)), count=str(self.count)),
                       msg("References and pictures made are at most {total} together", total=str(spec.max_total)))
        for ref in self.references:
            if not ref.startswith(("https://", "http://", "data:image/")):
                raise _bad(msg("A reference picture must be an http(s) link or a data URL, not '{ref}'", ref=ref[:60]),
                           msg("Give a link, or a picture file"))
        if self.response_format not in ("url", "b64_json"):
            raise _bad(msg("The answer format must be url or b64_json, not '{value}'", value=self.response_format[:20]),
                       msg("Leave it at url"))
        if self.seed is not None and not -1 <= self.seed <= 2_147_483_647:
            raise _bad(msg("The seed must be a whole number from -1 to 2147483647, not {seed}", seed=str(self.seed)),
                       msg("Leave the seed unset"))

    def _check_size(self, spec: ImageModel) -> None:
        word = self.size.strip().upper()
        if word in _SIZE_WORDS and word not in spec.sizes:
            raise _bad(msg("{model} does not take size {size}", model=spec.name, size=self.size),
                       msg("Use one of: {sizes}, or WIDTHxHEIGHT", sizes=", ".join(spec.sizes)))
        pixels = size_pixels(self.size)
        if pixels is None:
            raise _bad(msg("The size must be {sizes} or WIDTHxHEIGHT, not '{size}'", sizes=", ".join(spec.sizes),
                           size=self.size[:30]), msg("For example: 2048x2048"))
        width, height = pixels
        if not spec.min_pixels <= width * height <= spec.max_pixels:
            raise _bad(msg("{size} is {total} pixels; {model} makes {low} to {high} pixels in all", size=self.size,
                           total=f"{width * height:,}", model=spec.name, low=f"{spec.min_pixels:,}",
                           high=f"{spec.max_pixels:,}"), msg("For example: 2048x2048"))
        if not spec.aspect[0] <= width / height <= spec.aspect[1]:
            raise _bad(msg("{size} is too narrow: {model} takes aspect ratios from 1:16 to 16:1", size=self.size,
                           model=spec.name), msg("For example: 2048x2048"))

    def body(self) -> dict[str, Any]:
        """The JSON sent, after :meth:`check`."""
        self.check()
        body: dict[str, Any] = {"model": self.model, "prompt": self.prompt.strip(), "size": self.size.strip(),
                                "response_format": self.response_format, "watermark": self.watermark, "stream": False}
        if self.references:
            body["image"] = self.references[0] if len(self.references) == 1 else list(self.references)
        if self.count > 1:
            body["sequential_image_generation"] = "auto"
            body["sequential_image_generation_options"] = {"max_images": self.count}
        else:
            body["sequential_image_generation"] = "disabled"
        if self.seed is not None:
            body["seed"] = self.seed
        return body

    def price_cny(self) -> float:
        """The most these pictures cost (a set may come back smaller: Ark charges what it made)."""
        return self.spec.price_cny * self.count

    def cost(self) -> Message:
        return self.spec.cost(self.count)


@dataclass(frozen=True)
class GeneratedImage:
    path: Path  # where it was saved
    url: str  # Ark's link (kept 24 h), "" for a b64_json answer
    size: str  # "2048x2048", as Ark says


@dataclass(frozen=True)
class ImagesResult:
    model: str
    images: list[GeneratedImage]
    usage: dict[str, Any] = field(default_factory=dict)
    created: int = 0


#: Content-check codes (``InputTextSensitiveContentDetected``, ``OutputImageRiskDetection``...): change the prompt.
_CONTENT_CHECK = re.compile(r"SensitiveContentDetected|RiskDetection")


def _content_hint(exc: ArkError) -> ArkError:
    """Ark's content check refused the prompt or the pictures made: say what to change."""
    if isinstance(exc, ApiError) and _CONTENT_CHECK.search(exc.code or ""):
        return ApiError(exc.what, code=exc.code, request_id=exc.request_id, http_status=exc.http_status,
                        hint=msg("Ark's content check refused the prompt or the picture it made: change the prompt "
                                 "(or the reference picture) and try again"))
    return exc


def generate_images(client: ArkClient, request: ImageRequest, dest_dir: Path) -> ImagesResult:
    """Ask Seedream once and save each picture in ``dest_dir`` as ``image-<n>.<ext>``.

    A picture Ark could not make (its ``error`` in the list, e.g. the content check of one
    picture of a set) is left out; none at all is an :class:`ApiError` with Ark's reason.
    """
    body = request.body()
    try:
        answer = client.generate_images(body)
    except ArkError as exc:
        raise _content_hint(exc) from None
    dest_dir.mkdir(parents=True, exist_ok=True)
    saved: list[GeneratedImage] = []
    errors: list[dict[str, Any]] = []
    for item in answer["data"]:
        if not isinstance(item, dict) or isinstance(item.get("error"), dict):
            errors.append(item.get("error", {}) if isinstance(item, dict) else {})
            continue
        data, url = _picture_bytes(client, item)
        info = probe_image(data)
        path = dest_dir / f"image-{len(saved) + 1}{_EXTENSIONS[info.format]}"
        path.write_bytes(data)
        saved.append(GeneratedImage(path, url, str(item.get("size") or f"{info.width}x{info.height}")))
    if not saved:
        first = errors[0] if errors else {}
        raise _content_hint(ApiError(msg("Seedream made no picture: {reason}",
                                         reason=str(first.get("message") or "no reason given")),
                                     code=str(first.get("code") or ErrorCode.INVALID_RESPONSE),
                                     hint=msg("Change the prompt and try again")))
    usage = answer.get("usage")
    created = answer.get("created")
    return ImagesResult(str(answer.get("model") or request.model), saved, usage if isinstance(usage, dict) else {},
                        created if isinstance(created, int) else 0)


#: A picture is a few MB: read it whole, with the API client's own timeouts.
_PICTURE_TIMEOUT = (10.0, 60.0)


def _picture_bytes(client: ArkClient, item: dict[str, Any]) -> tuple[bytes, str]:
    """The picture of one answer item: decoded from ``b64_json`` or fetched from ``url`` (without the key)."""
    if isinstance(item.get("b64_json"), str):
        try:
            return base64.b64decode(item["b64_json"], validate=True), ""
        except (binascii.Error, ValueError):
            raise ApiError(msg("Ark sent a picture that is not valid base64"), code=ErrorCode.INVALID_RESPONSE,
                           hint=msg("Try again")) from None
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ApiError(msg("Ark sent a picture without a link"), code=ErrorCode.INVALID_RESPONSE,
                       hint=msg("Try again"))
    import requests

    from . import net

    try:
        # A plain request: the picture's host is not Ark, and must never see the API key.
        resp = requests.get(url, timeout=_PICTURE_TIMEOUT, verify=client.settings.verify, allow_redirects=True)
    except requests.RequestException as exc:
        raise scrub(net.describe_network_error(exc, url), client.settings.api_key) from None
    with resp:
        if resp.status_code != 200:
            raise NetworkError(msg("Fetching the picture failed: HTTP {status}", status=str(resp.status_code)),
                               code=ErrorCode.LINK_EXPIRED if resp.status_code == 403 else ErrorCode.NETWORK_ERROR,
                               http_status=resp.status_code,
                               hint=msg("Pictures are kept 24 hours: generate them again"))
        return resp.content, url
