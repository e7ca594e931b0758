"""A local stand-in for Volcengine Ark's 3D generation task API and its result file host.

Why it exists: the add-on must be tested (and demonstrated) without a paid account, and the
failures that matter most -- throttled, cut and stalled downloads, expired links, rate limits,
garbled answers -- never happen on demand against the real service.  This server speaks the
same HTTP as Ark (``/api/v3/contents/generations/tasks``, as Volcengine Ark's API reference
describes it: https://www.volcengine.com/docs/82379) and serves results from a *separate* host, as the
real pre-signed TOS links do, so a client that leaks the API key to the file host is caught.

Standard library only, so it runs anywhere a Python runs: imported by the tests
(``from ark_server import ArkServer``) and run as a script by the demo::

    python scripts/ark_server.py --port 8400 --file-port 8401 --key demo-key --demo ASSET_DIR

Task status is computed from the clock on every query (``queued`` -> ``running`` -> outcome),
so no background thread drives the tasks and a test only has to choose short durations.

What it models beyond Seed3D (sources and confidence: the team's research note MODELS11.md):

- Seedream's pictures, ``POST /api/v3/images/generations`` (``docs/ark-api-notes.md``): each
  model's sizes (``2K``/``4K``/``WxH`` within its pixel and aspect ranges), up to 14 references,
  a sequential set of ``max_images``, ``url`` (links on the file host, 403 after 24 h of server
  time, :meth:`ArkServer.advance`) or ``b64_json``, and the watermark (a dark box in the
  bottom-right corner when ``watermark`` is true, Ark's default).  The pictures are real PNGs: a
  disc of the prompt's colour, centred on a light background.  The content check refuses a
  prompt holding :data:`CONTENT_CHECK_WORD` (``InputTextSensitiveContentDetected``) or
  :data:`OUTPUT_CHECK_WORD` (``OutputImageSensitiveContentDetected``).  Every body received is kept
  (:attr:`ArkServer.image_requests`, :attr:`ArkServer.create_requests`) so tests can read it.

- Other 3D models on the same endpoint, each with its own create rules (:data:`MODEL_RULES`):
  Hyper3D Gen2 (text or 1-5 images, an English prompt before its flags) and Hitem3D 2.0 (1-4
  image URLs, flags only, file formats as codes 1-5).  A create that breaks a rule gets 400
  ``InvalidParameter`` (or ``MissingParameter``) whose ``param`` is the JSON path of the
  offending item, as Ark's own messages name it (``content[1].image_url``, ``content[0].text``).
  What Ark really answers for each broken rule is not documented: the codes are a guess.
- Their results: Ark links Seed3D's zip for 24 h, but Hyper3D's and Hitem3D's answers seen in
  public were a *bare* model file (``.../<hex>.glb``) linked for 7 days.  So tasks of those models
  serve whatever file they were given (the demo: a bare FBX with embedded textures, a bare STL)
  with ``X-Tos-Expires=604800``, and their task JSON has no ``fileformat``/``subdivisionlevel``.
  How their FBX, OBJ, STL and USDZ results are packed was never seen: bare files are a guess.
- Video (Seedance) tasks, which the same query and list calls return mixed with 3D ones:
  ``content.video_url`` (and ``last_frame_url``), no ``file_url``, and one more final status,
  ``expired``.  They are only ever registered (:meth:`ArkServer.add_video_task`), never created.
- ``GET /api/v3/models``: the model catalog (``domain``, ``status``), shaped like rows captured from
  the real call; the statuses in :data:`DEFAULT_CATALOG` are illustrative, not Ark's.
- Endpoints (``ep-...``): a create may name one instead of a model.  Ark's list filter
  ``filter.model`` takes an endpoint id; with ``endpoint_filter`` off (the default, which the
  existing tests rely on) it also matches a model id, with it on a model id matches nothing.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import itertools
import json
import mimetypes
import pathlib
import re
import secrets
import signal
import socket
import ssl
import string
import struct
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote

__all__ = ["DEFAULT_CATALOG", "MODEL_RULES", "ArkServer", "DownloadSpan", "LoggedRequest", "ModelRules",
           "picture_png", "register_demo"]

DEFAULT_MODEL = "doubao-seed3d-1-0-250928"
SEED3D_2_MODEL = "doubao-seed3d-2-0-260328"
HYPER3D_MODEL = "hyper3d-gen2-260112"
HITEM3D_MODEL = "hitem3d-2-0-251223"
VIDEO_MODEL = "doubao-seedance-1-0-pro-250528"
TASKS_PATH = "/api/v3/contents/generations/tasks"
IMAGES_PATH = "/api/v3/images/generations"
SEEDREAM_4_0 = "doubao-seedream-4-0-250828"
SEEDREAM_4_5 = "doubao-seedream-4-5-251128"
MODELS_PATH = "/api/v3/models"
SUBDIVISION_LEVELS = ("low", "medium", "high")
FILE_FORMATS = ("glb", "obj", "usd", "usdz")  # Seed3D's
#: How long result links are signed for: Seed3D's zips a day, Hyper3D's and Hitem3D's files a week.
SEED3D_LINK_S = 86400
OTHER_LINK_S = 604800
#: Write size of the file host: large enough to stream 500 MB quickly, small enough that a
#: stop request or a throttle is noticed between two writes.
CHUNK_SIZE = 256 * 1024
#: How long a stalled download stays silent before the server gives up on it.
STALL_S = 60.0
#: Largest request body read: five 30 MB images (Hyper3D's limits) as base64 data URLs, and slack.
MAX_BODY = 5 * 41 * 1024 * 1024
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: Every model's input images are smaller than 4096 x 4096 pixels in all.
MAX_IMAGE_PIXELS = 4096 * 4096
#: Schedule of the demo tasks and of tasks created in script mode, in seconds.
DEMO_SCHEDULE = (2.0, 3.0)
USAGE_TOKENS = 30000
#: Ark answers for and lists the tasks of the last 7 days only.
LIST_WINDOW_S = 7 * 86400
#: A cancelled task vanishes 24 hours after it was cancelled.
CANCELLED_KEPT_S = 86400
#: Seedream's picture links last 24 hours.
IMAGE_LINK_S = 86400
#: A prompt holding this word is refused by the stand-in content check (400, input text)...
CONTENT_CHECK_WORD = "contraband"
#: ... and one holding this word gets its pictures refused (400, output image).
OUTPUT_CHECK_WORD = "unshowable"

_ERROR_TYPES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "TooManyRequests"}
_FAULT_MESSAGES = {
    429: "The request rate exceeds the limit of your account. Please retry later.",
    500: "The service encountered an unexpected internal error.",
    503: "The service is temporarily overloaded. Please retry later.",
}
#: Messages of fault codes whose meaning is not the status's usual one (the texts are ours).
_CODE_MESSAGES = {
    "QuotaExceeded": "Your account has used up its free quota for this model, or has too many tasks "
                     "waiting in the queue.",
    "SetLimitExceeded": "Your account has reached the spending limit you set for this model.",
}
_DATA_URL = re.compile(r"^data:image/([a-z]+);base64,(.*)$", re.DOTALL)
_ID_ALPHABET = string.ascii_lowercase + string.digits
#: A stand-in for a video: just an ISO base media ``ftyp`` box, so the file host has bytes to
#: serve (nothing is meant to play it: the add-on must not download videos at all).
PLACEHOLDER_MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def _choice(*values: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in values else f"expected one of {', '.join(values)}"
    return check


def _integer(low: int, high: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if not re.fullmatch(r"\d+", value) or not low <= int(value) <= high:
            return f"expected an integer from {low} to {high}"
        return None
    return check


def _pattern(regex: str, what: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if re.fullmatch(regex, value) else f"expected {what}"
    return check


_BOOL = _choice("true", "false")


@dataclass(frozen=True)
class ModelRules:
    """What a create call for one 3D model may carry, as its Ark page documents it.

    ``flags`` maps every accepted spelling (``ff`` and ``fileformat``) to its canonical name and
    the check of its value; ``formats`` maps the canonical ``fileformat`` value to the format it
    makes (Hitem3D's codes ``1``-``5``).  Values are checked as spelled in the documents
    (``Quad``, ``PBR``, ``true``): whether Ark accepts other cases is unknown, and a client that
    sends the documented spelling never finds out.
    """

    family: str
    images: tuple[int, int]  # fewest and most image_url items
    prompt: bool  # free text allowed before the flags
    data_url_formats: tuple[str, ...]  # image formats accepted as base64 data URLs; () = URLs only
    max_image_bytes: int
    flags: dict[str, tuple[str, Callable[[str], str | None]]]
    defaults: dict[str, str]
    formats: dict[str, str]
    link_s: int
    #: (min, max) of width / height, exclusive, where the model's page gives one (Seed3D).
    aspect: tuple[float, float] | None = None

    def usage_tokens(self, params: dict[str, str]) -> int:
        """Tokens a succeeded task reports (price / 0.8 CNY per 10k tokens for Seed3D, etc.)."""
        if self.family == "hitem3d":
            return {("1536", "1"): 58000, ("1536", "3"): 101500, ("1536pro", "1"): 87000,
                    ("1536pro", "3"): 130500}[(params["resolution"], params["request_type"])]
        return USAGE_TOKENS


_SEED3D_FLAGS = {
    "subdivisionlevel": ("subdivisionlevel", _choice(*SUBDIVISION_LEVELS)),
    "fileformat": ("fileformat", _choice(*FILE_FORMATS)),
}
_SEED3D_RULES = ModelRules(
    family="seed3d", images=(1, 1), prompt=False, data_url_formats=("png", "jpeg", "jpg", "webp", "bmp"),
    max_image_bytes=MAX_IMAGE_BYTES,
    flags={**_SEED3D_FLAGS, "sl": _SEED3D_FLAGS["subdivisionlevel"], "ff": _SEED3D_FLAGS["fileformat"]},
    defaults={"subdivisionlevel": "medium", "fileformat": "glb"}, formats={f: f for f in FILE_FORMATS},
    link_s=SEED3D_LINK_S, aspect=(0.4, 2.5))
_HYPER3D_FLAGS = {
    "mesh_mode": ("mesh_mode", _choice("Raw", "Quad")),
    "hd_texture": ("hd_texture", _BOOL),
    "material": ("material", _choice("PBR", "Shaded", "All", "None")),
    "addons": ("addons", _choice("HighPack")),
    "quality_override": ("quality_override", _integer(500, 1_000_000)),  # narrowed by mesh_mode below
    "use_original_alpha": ("use_original_alpha", _BOOL),
    "bbox_condition": ("bbox_condition", _pattern(r"\[\d+,\d+,\d+\]", "[x,y,z], three integers")),
    "TAPose": ("TAPose", _BOOL),
    "subdivisionlevel": ("subdivisionlevel", _choice(*SUBDIVISION_LEVELS)),
    "fileformat": ("fileformat", _choice("glb", "obj", "usdz", "fbx", "stl")),
}
_HYPER3D_RULES = ModelRules(
    family="hyper3d", images=(0, 5), prompt=True, data_url_formats=("png", "jpeg", "jpg"),
    max_image_bytes=30 * 1024 * 1024,
    flags={**_HYPER3D_FLAGS, "sl": _HYPER3D_FLAGS["subdivisionlevel"], "ff": _HYPER3D_FLAGS["fileformat"]},
    defaults={"mesh_mode": "Quad", "material": "PBR", "fileformat": "glb"},
    formats={f: f for f in ("glb", "obj", "usdz", "fbx", "stl")}, link_s=OTHER_LINK_S)
_HITEM3D_FLAGS = {
    "fileformat": ("fileformat", _choice("1", "2", "3", "4", "5")),
    "resolution": ("resolution", _choice("1536", "1536pro")),
    "face": ("face", _integer(100_000, 2_000_000)),
    "request_type": ("request_type", _choice("1", "3")),
    "multi_images_bit": ("multi_images_bit", _pattern(r"[01]{4}", "four digits 0 or 1 (front, back, left, right)")),
}
_HITEM3D_RULES = ModelRules(
    family="hitem3d", images=(1, 4), prompt=False, data_url_formats=(), max_image_bytes=MAX_IMAGE_BYTES,
    flags={**_HITEM3D_FLAGS, "ff": _HITEM3D_FLAGS["fileformat"]},
    defaults={"fileformat": "1", "resolution": "1536", "request_type": "3"},
    formats={"1": "obj", "2": "glb", "3": "stl", "4": "fbx", "5": "usdz"}, link_s=OTHER_LINK_S)
#: The create rules of every 3D model Ark serves on the task endpoint.
MODEL_RULES: dict[str, ModelRules] = {
    DEFAULT_MODEL: _SEED3D_RULES, SEED3D_2_MODEL: _SEED3D_RULES,
    HYPER3D_MODEL: _HYPER3D_RULES, HITEM3D_MODEL: _HITEM3D_RULES,
}


def _catalog_row(model_id: str, domain: str, created: int, status: str | None = None,
                 task_type: list[str] | None = None, modalities: dict[str, list[str]] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": model_id, "name": model_id.rsplit("-", 1)[0], "created": created}
    if status:
        row["status"] = status
    row["domain"] = domain
    if task_type:
        row["task_type"] = task_type
    row.update({"modalities": modalities or {}, "token_limits": {}, "features": {}})
    return row


#: ``GET /models``: ids and domains as Ark lists them; the statuses are illustrative (which of
#: these Ark really marks ``Retiring`` is not known), chosen so every status is present.
DEFAULT_CATALOG: tuple[dict[str, Any], ...] = (
    _catalog_row(DEFAULT_MODEL, "3DGeneration", 1759017600, "Retiring"),
    _catalog_row(SEED3D_2_MODEL, "3DGeneration", 1774656000),
    _catalog_row(HYPER3D_MODEL, "3DGeneration", 1768176000),
    _catalog_row(HITEM3D_MODEL, "3DGeneration", 1774855941),
    _catalog_row(VIDEO_MODEL, "VideoGeneration", 1748390400, task_type=["TextToVideo", "ImageToVideo"],
                 modalities={"input_modalities": ["text", "image"], "output_modalities": ["video"]}),
    _catalog_row("doubao-seedance-1-5-pro-251215", "VideoGeneration", 1765756800, "Retiring",
                 task_type=["TextToVideo", "ImageToVideo"],
                 modalities={"input_modalities": ["text", "image"], "output_modalities": ["video"]}),
    _catalog_row(SEEDREAM_4_5, "ImageGeneration", 1764288000, task_type=["TextToImage", "ImageToImage"],
                 modalities={"input_modalities": ["text", "image"], "output_modalities": ["image"]}),
    _catalog_row(SEEDREAM_4_0, "ImageGeneration", 1756339200,
                 task_type=["TextToImage", "ImageToImage"],
                 modalities={"input_modalities": ["text", "image"], "output_modalities": ["image"]}),
    _catalog_row("doubao-seed-1-6-250615", "VLM", 1749945600, task_type=["TextGeneration"],
                 modalities={"input_modalities": ["text", "image", "video"], "output_modalities": ["text"]}),
    _catalog_row("doubao-pro-32k-241215", "LLM", 1734220800, "Shutdown", task_type=["TextGeneration"],
                 modalities={"input_modalities": ["text"], "output_modalities": ["text"]}),
)


@dataclass(frozen=True)
class LoggedRequest:
    """One request as received, so tests can assert what a client sent (and never sent)."""

    server: str  # "api" or "file"
    method: str
    path: str  # as sent, still URL-encoded, without the query
    query: str
    headers: dict[str, str]
    time: float

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


@dataclass(frozen=True)
class DownloadSpan:
    """One body the file host sent: when it began and ended, so tests can see downloads overlap."""

    path: str
    start: float  # time.time() when the first byte was about to be sent
    end: float  # when the last byte was sent (or the stream stopped)
    first_byte: int  # offset of the first byte sent (the Range start)
    sent: int  # bytes of body it was to send (fewer if the client hung up)


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class _File:
    """A file on the file host plus the misbehaviour it is served with."""

    name: str
    token: str
    data: bytes | None
    path: pathlib.Path | None
    size: int
    etag: str
    throttle_bps: int | None
    cut_after: int | None
    cut_times: int
    ignore_range: bool
    expired: bool
    length_mismatch: bool
    stall_after: int | None
    cuts_done: int = 0
    expires_at: float | None = None  # server time (:meth:`ArkServer.now`) after which the link answers 403

    def chunks(self, start: int, stop: int, size: int) -> Iterator[bytes]:
        """Bytes ``[start, stop)`` in pieces of ``size``, read from disk as they are sent."""
        if self.data is not None:
            view = memoryview(self.data)
            for pos in range(start, stop, size):
                yield bytes(view[pos : min(pos + size, stop)])
            return
        assert self.path is not None
        with self.path.open("rb") as handle:
            handle.seek(start)
            remaining = stop - start
            while remaining > 0:
                piece = handle.read(min(size, remaining))
                if not piece:
                    return
                remaining -= len(piece)
                yield piece


@dataclass
class _Task:
    """A task whose status follows a schedule measured from ``created_mono``.

    ``content`` holds the signed links a succeeded task reports (``file_url``, or a video's
    ``video_url`` and ``last_frame_url``); ``model_fields`` the model's own top-level fields
    (Seed3D's ``subdivisionlevel``/``fileformat``, a video's ``resolution``...).
    """

    id: str
    model: str
    endpoint: str | None
    content: dict[str, str]
    model_fields: dict[str, Any]
    usage_tokens: int
    created_wall: float
    created_mono: float
    queued_s: float
    running_s: float
    outcome: str
    error_code: str
    error_message: str
    times_as_strings: bool
    extra_fields: dict[str, Any]
    status_override: str | None
    seq: int
    cancelled_after: float | None = None  # seconds after creation, once cancelled

    def status(self, now_mono: float) -> tuple[str, float]:
        """The status now and how many seconds after creation it began."""
        if self.cancelled_after is not None:
            return "cancelled", self.cancelled_after
        elapsed = now_mono - self.created_mono
        if elapsed < self.queued_s:
            return "queued", 0.0
        if elapsed < self.queued_s + self.running_s:
            return "running", self.queued_s
        return self.outcome, self.queued_s + self.running_s

    def to_json(self, now_mono: float) -> dict[str, Any]:
        """The task in the seed's response shape (field order as in its example)."""
        status, since = self.status(now_mono)
        created = int(self.created_wall)
        updated = int(self.created_wall + since)
        doc: dict[str, Any] = {"id": self.id, "model": self.model, "status": self.status_override or status}
        if status == "failed":
            doc["error"] = {"code": self.error_code, "message": self.error_message}
        doc["created_at"] = str(created) if self.times_as_strings else created
        doc["updated_at"] = str(updated) if self.times_as_strings else updated
        if status == "succeeded" and self.content:
            doc["content"] = dict(self.content)
        doc.update(self.model_fields)
        if status == "succeeded":
            doc["usage"] = {"completion_tokens": self.usage_tokens, "total_tokens": self.usage_tokens}
        doc.update(self.extra_fields)
        return doc


@dataclass
class _Fault:
    remaining: int
    status: int
    code: str
    retry_after: float | None
    path_prefix: str | None


@dataclass
class _RawResponse:
    status: int
    body: bytes
    content_type: str
    remaining: int | None  # None: every query


class _HTTPServer(ThreadingHTTPServer):
    """A threading server that can drop its open connections, so ``stop()`` is prompt.

    ``shutdown()`` only stops accepting; keep-alive connections and downloads in flight would
    otherwise keep their daemon threads serving after the test that owned them has finished.
    """

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], ark: ArkServer, kind: str):
        self.ark = ark
        self.kind = kind
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-download is part of what this server is for: not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)) or self.ark.stopping.is_set():
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Shared plumbing: HTTP/1.1 keep-alive (as real clients use it), quiet, logs every request."""

    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # name fixed by the base class
        pass

    def _split_and_log(self, method: str) -> tuple[str, str]:
        path, _, query = self.path.partition("?")
        self.server.ark._log(self.server.kind, method, path, query, dict(self.headers.items()))
        return path, query

    def _send(self, response: _Response, *, head: bool = False) -> None:
        self.send_response(response.status)
        if response.body or response.status != 200:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(response.body)


class _ApiHandler(_Handler):
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        body = self._read_body()
        path, query = self._split_and_log(method)
        ark = self.server.ark
        response = ark._answer_api(method, path, query, self.headers, body)
        self._send(_Response(response.status, response.body, response.content_type,
                             (("X-Request-Id", ark._request_id()),) + response.headers))

    def _read_body(self) -> bytes:
        """Read the whole body so the next request on a kept-alive connection starts clean."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY or self.headers.get("Transfer-Encoding"):
            # Cannot find the end of this body: answer from what we have and hang up.
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length else b""


class _FileHandler(_Handler):
    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        path, _ = self._split_and_log("HEAD" if head else "GET")
        ark = self.server.ark
        file = ark._lookup_file(path)
        if file is None:
            self._send(_xml_error(404, "NoSuchKey", "The specified key does not exist."), head=head)
            return
        if file.expired or (file.expires_at is not None and ark.now() > file.expires_at):
            self._send(_xml_error(403, "AccessDenied", "Request has expired"), head=head)
            return
        start, end, partial = 0, file.size - 1, False
        range_header = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if range_header and not file.ignore_range and (if_range is None or if_range == file.etag):
            parsed = _parse_range(range_header, file.size)
            if parsed is not None:
                start, end = parsed
                if start >= file.size:
                    self._send(_xml_error(416, "InvalidRange", "The requested range is not satisfiable.",
                                          (("Content-Range", f"bytes */{file.size}"),)), head=head)
                    return
                partial = True
        length = end - start + 1
        self.send_response(206 if partial else 200)
        self.send_header("Content-Type", mimetypes.guess_type(file.name)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(length + (1024 if file.length_mismatch else 0)))
        self.send_header("ETag", file.etag)
        if not file.ignore_range:
            self.send_header("Accept-Ranges", "bytes")
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end}/{file.size}")
        self.end_headers()
        if head:
            return
        send = length
        cut = ark._claim_cut(file)
        if cut is not None:
            send = min(send, cut)
        if file.stall_after is not None:
            send = min(send, file.stall_after)
        began = time.time()
        try:
            completed = self._stream(file, start, start + send)
        finally:
            ark._log_span(DownloadSpan(path, began, time.time(), start, send))
        if completed and file.stall_after is not None and file.stall_after < length:
            ark.stopping.wait(STALL_S)
        if not completed or send < length or file.length_mismatch:
            # The body is shorter than Content-Length promised: only closing ends it for the client.
            self.close_connection = True

    def _stream(self, file: _File, start: int, stop: int) -> bool:
        """Write bytes ``[start, stop)``, paced to ``throttle_bps``; False if stopped midway."""
        ark = self.server.ark
        rate = file.throttle_bps
        chunk = CHUNK_SIZE if not rate else max(1, min(CHUNK_SIZE, rate // 10))
        began = time.monotonic()
        sent = 0
        for piece in file.chunks(start, stop, chunk):
            if ark.stopping.is_set():
                return False
            self.wfile.write(piece)
            sent += len(piece)
            if rate:
                delay = sent / rate - (time.monotonic() - began)
                if delay > 0 and ark.stopping.wait(delay):
                    return False
        return True


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """``(start, end)`` of a single ``bytes=`` range, ``start >= size`` if unsatisfiable.

    None means "not a range we serve" (another unit, several ranges, garbage): the whole file
    is sent, which is what HTTP asks of a server that ignores a Range header.
    """
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value)
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        return (max(0, size - suffix), size - 1) if suffix else (size, size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    return start, end


def _json(status: int, doc: Any, headers: tuple[tuple[str, str], ...] = ()) -> _Response:
    return _Response(status, json.dumps(doc, ensure_ascii=False).encode("utf-8"), "application/json", headers)


def _error(status: int, code: str, message: str, param: str = "",
           headers: tuple[tuple[str, str], ...] = ()) -> _Response:
    """Ark's error body: ``{"error": {"code", "message", "param", "type"}}``."""
    kind = _ERROR_TYPES.get(status, "InternalServerError" if status >= 500 else "BadRequest")
    return _json(status, {"error": {"code": code, "message": message, "param": param, "type": kind}}, headers)


def _xml_error(status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()) -> _Response:
    """Object storage answers errors in XML, not in Ark's JSON."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{secrets.token_hex(12)}</RequestId><HostId>ark-server</HostId></Error>"
    ).encode()
    return _Response(status, body, "application/xml", headers)


def _check_image_url(url: object, rules: ModelRules) -> str | None:
    """Why the image URL is unacceptable for this model, or None if it is fine."""
    if not isinstance(url, str) or not url:
        return "image_url.url must be a non-empty string."
    if url.startswith("data:"):
        if not rules.data_url_formats:
            return "This model takes image URLs only, not base64 data URLs."
        match = _DATA_URL.match(url)
        if not match or match.group(1) not in rules.data_url_formats:
            formats = "|".join(rules.data_url_formats)
            return f"A data URL must look like data:image/<{formats}>;base64,<data>."
        try:
            image = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            return "The base64 data of the image is invalid."
        if not image:
            return "The image is empty."
        if len(image) > rules.max_image_bytes:
            return f"The image is larger than {rules.max_image_bytes // (1024 * 1024)} MB."
        size = _image_size(image)
        if size is None:  # a header this server cannot read: its size is not judged
            return None
        width, height = size
        if width * height >= MAX_IMAGE_PIXELS:
            return f"The image is {width}x{height} pixels: it must be smaller than 4096x4096."
        if rules.aspect is not None and height and not rules.aspect[0] < width / height < rules.aspect[1]:
            return (f"The image's aspect ratio (width / height) is {width / height:.2f}: it must be between "
                    f"{rules.aspect[0]:g} and {rules.aspect[1]:g}.")
        return None
    if not re.match(r"^https?://[^/\s]+", url):
        return "image_url.url must be an http(s) URL or a base64 data URL."
    return None


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, JPEG, WebP or BMP header; None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        kind = data[12:16]
        if kind == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if kind == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if kind == b"VP8X":
            return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
        return None
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 <= len(data) and data[pos] == 0xFF:
            marker = data[pos + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
                pos += 2
                continue
            length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return width, height
            pos += 2 + length
    return None


def _parse_text(text: str, rules: ModelRules, images: int) -> tuple[dict[str, str], str | None]:
    """The prompt and ``--name value`` flags of the text, defaults filled in, or the first problem.

    The prompt (where the model takes one) is the words before the first flag; it comes back
    under the key ``prompt``.  A bracketed value (``--bbox_condition [1, 2, 3]``) may hold spaces.
    """
    params = dict(rules.defaults)
    tokens = text.split()
    first_flag = next((i for i, token in enumerate(tokens) if token.startswith("--")), len(tokens))
    if first_flag:
        if not rules.prompt:
            return params, (f"The text holds parameters only (--name value), not a prompt: "
                            f"unexpected {tokens[0]!r}.")
        params["prompt"] = " ".join(tokens[:first_flag])
    index = first_flag
    while index < len(tokens):
        flag = tokens[index]
        spec = rules.flags.get(flag[2:]) if flag.startswith("--") else None
        if spec is None:
            return params, f"Unsupported text parameter {flag!r} for this model."
        if index + 1 >= len(tokens) or tokens[index + 1].startswith("--"):
            return params, f"Parameter {flag} needs a value."
        end = index + 1
        if tokens[end].startswith("[") and "]" not in tokens[end]:
            while end + 1 < len(tokens) and "]" not in tokens[end]:
                end += 1
        value = "".join(tokens[index + 1 : end + 1])
        name, check = spec
        problem = check(value)
        if problem:
            return params, f"Invalid value {value!r} for {flag}: {problem}."
        params[name] = value
        index = end + 1
    if "quality_override" in params:
        low, high = (500, 1_000_000) if params["mesh_mode"] == "Raw" else (1000, 200_000)
        if not low <= int(params["quality_override"]) <= high:
            return params, (f"Invalid value {params['quality_override']!r} for --quality_override: with "
                            f"--mesh_mode {params['mesh_mode']} expected an integer from {low} to {high}.")
    bits = params.get("multi_images_bit")
    if bits is not None and bits.count("1") != images:
        return params, f"--multi_images_bit {bits} marks {bits.count('1')} views but {images} images were sent."
    return params, None


class ArkServer:
    """Ark's task API on one port and a TOS-like file host on another, in this process.

    Both listen as soon as the object exists (so URLs can be built before ``start()``);
    ``start()`` begins serving.  Every request on either server lands in ``requests_log``.
    """

    def __init__(self, api_key: str = "test-key", host: str = "127.0.0.1", time_scale: float = 1.0,
                 *, port: int = 0, file_port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.api_key = api_key
        self.time_scale = time_scale
        #: (queued_s, running_s) of tasks created through POST, before ``time_scale``.
        self.create_schedule: tuple[float, float] = (0.5, 1.0)
        self.requests_log: list[LoggedRequest] = []
        #: The JSON bodies of ``POST /images/generations`` and of task creates, as received.
        self.image_requests: list[Any] = []
        self.create_requests: list[Any] = []
        #: How long picture links live (Ark: 24 h), and a shift of the server's clock (:meth:`advance`).
        self.image_link_s = IMAGE_LINK_S
        self._clock_offset = 0.0
        #: Every body the file host sent (or began to send), in the order they ended.
        self.download_spans: list[DownloadSpan] = []
        self.stopping = threading.Event()
        self._lock = threading.RLock()
        self._tasks: dict[str, _Task] = {}
        self._files: dict[str, _File] = {}  # by token
        self._faults: list[_Fault] = []
        self._raw: dict[str, _RawResponse] = {}
        self._create_results: dict[tuple[str, str], str] = {}  # (model family, format) -> file URL
        #: ``GET /models`` answers these rows (a test may edit them); a 3D model ``Shutdown``
        #: here refuses creates.
        self.models: list[dict[str, Any]] = json.loads(json.dumps(DEFAULT_CATALOG))
        #: Off: ``filter.model`` matches a task's model id or endpoint id.  On: only an endpoint
        #: id, as Ark documents it (a model id then matches nothing -- Ark's answer is unknown).
        self.endpoint_filter = False
        self._endpoints: dict[str, str] = {}  # ep-... -> model id
        self._seq = itertools.count()
        self._request_ids = itertools.count(1)
        self._signing_key = secrets.token_bytes(16)
        self._api = _HTTPServer((host, port), _ApiHandler, self, "api")
        self._file_host = _HTTPServer((host, file_port), _FileHandler, self, "file")
        self._threads: list[threading.Thread] = []
        scheme = "http"
        if ssl_context is not None:
            # Both hosts speak TLS with the given certificate (tests of certificate checks and
            # CA bundles).  A failed handshake is dropped by accept(), before any request is read.
            scheme = "https"
            for server in (self._api, self._file_host):
                server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
        self.api_base = f"{scheme}://{host}:{self._api.server_address[1]}/api/v3"
        self.file_base = f"{scheme}://{host}:{self._file_host.server_address[1]}"

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> ArkServer:
        """Serve both ports on daemon threads; returns self so ``ArkServer().start()`` reads well."""
        if not self._threads:
            for server in (self._api, self._file_host):
                # The poll interval is how long stop() waits for each loop to notice: a test starts
                # and stops a server of its own, hundreds of times a run.
                thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                                          name=f"ark-server-{server.kind}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop at once, even with throttled or stalled downloads in flight; safe to call twice."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        for server in (self._api, self._file_host):
            if self._threads:
                server.shutdown()
            server.drop_connections()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> ArkServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- setting the scene --------------------------------------------------------------------

    def add_file(self, name: str, data: bytes | pathlib.Path, *, throttle_bps: int | None = None,
                 cut_after: int | None = None, cut_times: int = 1, ignore_range: bool = False,
                 expired: bool = False, length_mismatch: bool = False, stall_after: int | None = None) -> str:
        """Put a file on the file host and return its full URL (unsigned: the host ignores queries).

        A path is streamed from disk on every request, never read whole.  ``cut_after`` closes
        the first ``cut_times`` downloads after that many body bytes; ``stall_after`` makes every
        download go silent after that many bytes; ``length_mismatch`` promises more bytes than
        it sends; ``expired`` answers 403 as a stale pre-signed link does.
        """
        token = secrets.token_hex(8)
        if isinstance(data, pathlib.Path):
            stat = data.stat()
            file = _File(name, token, None, data, stat.st_size, f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"',
                         throttle_bps, cut_after, cut_times, ignore_range, expired, length_mismatch, stall_after)
        else:
            data = bytes(data)
            file = _File(name, token, data, None, len(data), f'"{hashlib.md5(data).hexdigest()}"',
                         throttle_bps, cut_after, cut_times, ignore_range, expired, length_mismatch, stall_after)
        with self._lock:
            self._files[token] = file
        return f"{self.file_base}/files/{token}/{quote(name)}"

    def add_task(self, task_id: str | None = None, *, file: str | None = None, model: str = DEFAULT_MODEL,
                 fileformat: str = "glb", subdivisionlevel: str = "medium", queued_s: float = 0.0,
                 running_s: float = 0.0, outcome: str = "succeeded", error_code: str = "",
                 error_message: str = "", times_as_strings: bool = False,
                 extra_fields: dict[str, Any] | None = None, status_override: str | None = None,
                 endpoint: str | None = None, usage_tokens: int | None = None, age_s: float = 0.0) -> str:
        """Register a 3D task that starts now (or ``age_s`` seconds ago) and return its id.

        ``file`` is a URL from :meth:`add_file`, the name of a file already added, or a path on
        disk to add; None makes a succeeded task without ``content`` (a malformed answer).
        Seed3D tasks (and tasks of models this server does not know) report ``fileformat`` and
        ``subdivisionlevel``; Hyper3D and Hitem3D tasks report neither, as theirs do not.
        ``extra_fields`` are merged over the top-level JSON; ``status_override`` replaces the
        reported status text while content/error still follow the schedule.  ``outcome`` may be
        ``expired`` too: a task that outlived its ``execution_expires_after`` (a status neither the
        seed nor the SDK documents, kept as a stand-in), with neither result nor error.  A task older than 7 days
        (``age_s``) is answered 404 and left out of the list, as Ark keeps tasks 7 days; so is a
        task cancelled more than 24 hours ago.
        """
        if outcome not in ("succeeded", "failed", "cancelled", "expired"):
            raise ValueError(f"outcome must be succeeded, failed, cancelled or expired, not {outcome!r}")
        rules = MODEL_RULES.get(model, _SEED3D_RULES)
        fields = {"subdivisionlevel": subdivisionlevel, "fileformat": fileformat} if rules.family == "seed3d" else {}
        with self._lock:
            url = self._resolve_file(file) if file is not None else ""
            return self._register(task_id, model=model, endpoint=endpoint, links={"file_url": url},
                                  link_s=rules.link_s, model_fields=fields,
                                  usage_tokens=USAGE_TOKENS if usage_tokens is None else usage_tokens,
                                  queued_s=queued_s, running_s=running_s, outcome=outcome, error_code=error_code,
                                  error_message=error_message, times_as_strings=times_as_strings,
                                  extra_fields=extra_fields, status_override=status_override, age_s=age_s)

    def add_video_task(self, task_id: str | None = None, *, video: str | None = None, last_frame: str | None = None,
                       model: str = VIDEO_MODEL, queued_s: float = 0.0, running_s: float = 0.0,
                       outcome: str = "succeeded", error_code: str = "", error_message: str = "",
                       fields: dict[str, Any] | None = None) -> str:
        """Register a Seedance video task, as the same query and list calls return them.

        A succeeded one carries ``content.video_url`` (and ``last_frame_url`` if ``last_frame``
        is given: Ark adds it when the task asked for it) and never a ``file_url``.  ``video``
        and ``last_frame`` are what ``file`` is to :meth:`add_task`; ``fields`` override the
        video's own top-level fields (values from a real Seedance answer by default).  The
        outcome may also be ``expired``: a video task that outlived ``execution_expires_after``.
        """
        if outcome not in ("succeeded", "failed", "cancelled", "expired"):
            raise ValueError(f"outcome must be succeeded, failed, cancelled or expired, not {outcome!r}")
        model_fields: dict[str, Any] = {
            "seed": 1276, "resolution": "720p", "ratio": "16:9", "duration": 5, "framespersecond": 24,
            "service_tier": "default", "execution_expires_after": 172800, "generate_audio": True, "draft": False,
            **(fields or {})}
        with self._lock:
            links = {"video_url": self._resolve_file(video) if video is not None else "",
                     "last_frame_url": self._resolve_file(last_frame) if last_frame is not None else ""}
            return self._register(task_id, model=model, endpoint=None, links=links, link_s=SEED3D_LINK_S,
                                  model_fields=model_fields, usage_tokens=108900, queued_s=queued_s,
                                  running_s=running_s, outcome=outcome, error_code=error_code,
                                  error_message=error_message, times_as_strings=False, extra_fields=None,
                                  status_override=None)

    def add_endpoint(self, model: str, endpoint_id: str | None = None) -> str:
        """An inference endpoint (``ep-...``) of ``model`` that creates may name instead of the model."""
        with self._lock:
            endpoint_id = endpoint_id or f"ep-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)[:5]}"
            self._endpoints[endpoint_id] = model
        return endpoint_id

    def _register(self, task_id: str | None, *, model: str, endpoint: str | None, links: dict[str, str],
                  link_s: int, model_fields: dict[str, Any], usage_tokens: int, queued_s: float, running_s: float,
                  outcome: str, error_code: str, error_message: str, times_as_strings: bool,
                  extra_fields: dict[str, Any] | None, status_override: str | None, age_s: float = 0.0) -> str:
        """Store a task (the caller holds the lock); links are signed here, empty ones dropped."""
        task_id = task_id or self._new_task_id()
        if task_id in self._tasks:
            raise ValueError(f"task {task_id} already exists")
        self._tasks[task_id] = _Task(
            id=task_id, model=model, endpoint=endpoint,
            content={key: self._sign(task_id, url, link_s, signed_at=time.time() - age_s
                                     + (queued_s + running_s) * self.time_scale)
                     for key, url in links.items() if url},
            model_fields=model_fields, usage_tokens=usage_tokens, created_wall=time.time() - age_s,
            created_mono=time.monotonic() - age_s, queued_s=queued_s * self.time_scale,
            running_s=running_s * self.time_scale, outcome=outcome, error_code=error_code,
            error_message=error_message, times_as_strings=times_as_strings,
            extra_fields=dict(extra_fields or {}), status_override=status_override, seq=next(self._seq))
        return task_id

    def set_create_result(self, fileformat: str, data: bytes | pathlib.Path, *, model: str = DEFAULT_MODEL) -> str:
        """The file that tasks created through POST for this model's family and format will serve.

        ``fileformat`` is the format's name (``fbx``, not Hitem3D's code ``4``).  Seed3D serves
        zips; give Hyper3D and Hitem3D what they should link (a bare model file, as seen).
        """
        family = MODEL_RULES[model].family
        if family != "seed3d":
            name = _ark_file_name(data, fileformat)
        else:
            name = data.name if isinstance(data, pathlib.Path) else f"seed3d_{fileformat}.zip"
        url = self.add_file(name, data)
        with self._lock:
            self._create_results[(family, fileformat)] = url
        return url

    def fail_next(self, n: int, status: int = 500, code: str = "InternalServiceError",
                  retry_after: float | None = None, path_prefix: str | None = None) -> None:
        """The next ``n`` API requests (whose path starts with ``path_prefix``, if given) fail.

        Checked before authentication, as a gateway's rate limiter would be.  ``retry_after``
        adds a ``Retry-After`` header (seconds, fractions allowed so tests stay fast).
        """
        with self._lock:
            self._faults.append(_Fault(n, status, code, retry_after, path_prefix))

    def set_raw_response(self, task_id: str, status: int, body: bytes, content_type: str = "application/json",
                         times: int | None = None) -> None:
        """Answer queries of ``task_id`` with exactly this (e.g. invalid JSON), ``times`` times or always."""
        with self._lock:
            self._raw[task_id] = _RawResponse(status, body, content_type, times)

    def count(self, server: str = "api", method: str | None = "GET", path_contains: str = "") -> int:
        """How many logged requests match (``method=None`` matches any method)."""
        with self._lock:
            return sum(1 for r in self.requests_log
                       if r.server == server and (method is None or r.method == method) and path_contains in r.path)

    # -- internals used by the handlers ---------------------------------------------------------

    def _log(self, server: str, method: str, path: str, query: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests_log.append(LoggedRequest(server, method, path, query, headers, time.time()))

    def _log_span(self, span: DownloadSpan) -> None:
        with self._lock:
            self.download_spans.append(span)

    def max_concurrent_downloads(self) -> int:
        """The most bodies the file host was sending at the same moment."""
        with self._lock:
            spans = list(self.download_spans)
        edges = sorted([(s.start, 1) for s in spans] + [(s.end, -1) for s in spans], key=lambda e: (e[0], e[1]))
        peak = current = 0
        for _, step in edges:
            current += step
            peak = max(peak, current)
        return peak

    def _request_id(self) -> str:
        """Like Ark's: a timestamp then hex, e.g. ``20251124123456000000001A``; unique per server."""
        return f"{time.strftime('%Y%m%d%H%M%S')}{next(self._request_ids):010X}"

    def _new_task_id(self) -> str:
        while True:
            suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))
            task_id = f"cgt-{time.strftime('%Y%m%d%H%M%S')}-{suffix}"
            if task_id not in self._tasks:
                return task_id

    def _resolve_file(self, file: str) -> str:
        if file.startswith(self.file_base + "/"):
            return file
        for entry in self._files.values():
            if entry.name == file:
                return f"{self.file_base}/files/{entry.token}/{quote(entry.name)}"
        path = pathlib.Path(file)
        if path.is_file():
            return self.add_file(path.name, path)
        raise ValueError(f"{file!r} is neither a URL from add_file, an added file's name nor an existing file")

    def _sign(self, task_id: str, url: str, expires_s: int, *, signed_at: float) -> str:
        """Append a fake TOS pre-signature, so clients see (and must cope with) a query string.

        Like a real one it says when it was signed (``X-Tos-Date``, UTC; here: when the task
        finishes) and for how long it is valid (``X-Tos-Expires``, seconds).
        """
        signature = hmac.new(self._signing_key, f"{task_id} {url}".encode(), hashlib.sha256).hexdigest()
        date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at))
        return (f"{url}?X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Date={date}&X-Tos-Expires={expires_s}"
                f"&X-Tos-Signature={signature}")

    def _lookup_file(self, path: str) -> _File | None:
        parts = path.split("/")
        if len(parts) != 4 or parts[:2] != ["", "files"]:
            return None
        with self._lock:
            file = self._files.get(parts[2])
        return file if file is not None and unquote(parts[3]) == file.name else None

    def _claim_cut(self, file: _File) -> int | None:
        """``cut_after`` if this download is one of the first ``cut_times``, else None."""
        with self._lock:
            if file.cut_after is None or file.cuts_done >= file.cut_times:
                return None
            file.cuts_done += 1
            return file.cut_after

    def _take_fault(self, path: str) -> _Response | None:
        with self._lock:
            fault = next((f for f in self._faults
                          if f.remaining > 0 and (f.path_prefix is None or path.startswith(f.path_prefix))), None)
            if fault is None:
                return None
            fault.remaining -= 1
            self._faults = [f for f in self._faults if f.remaining > 0]
        headers = (("Retry-After", f"{fault.retry_after:g}"),) if fault.retry_after is not None else ()
        message = (_CODE_MESSAGES.get(fault.code)
                   or _FAULT_MESSAGES.get(fault.status, f"Simulated failure {fault.code}."))
        return _error(fault.status, fault.code, message, headers=headers)

    def now(self) -> float:
        """The server's clock (monotonic seconds), moved on by :meth:`advance`."""
        return time.monotonic() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the server's clock on: picture links older than :attr:`image_link_s` then answer 403."""
        with self._lock:
            self._clock_offset += seconds

    def _answer_api(self, method: str, path: str, query: str, headers: Message, body: bytes) -> _Response:
        fault = self._take_fault(path)
        if fault is not None:
            return fault
        if headers.get("Authorization", "").strip() != f"Bearer {self.api_key}":
            return _error(401, "AuthenticationError", "The API key or AK/SK in the request is missing or invalid.")
        if path.rstrip("/") == MODELS_PATH and method == "GET":
            with self._lock:
                return _json(200, {"data": json.loads(json.dumps(self.models))})
        if path.rstrip("/") == IMAGES_PATH and method == "POST":
            return self._images(body)
        if path.rstrip("/") == TASKS_PATH:
            if method == "GET":
                return self._list(query)
            if method == "POST":
                return self._create(body)
        elif path.startswith(TASKS_PATH + "/") and "/" not in path[len(TASKS_PATH) + 1 :]:
            task_id = unquote(path[len(TASKS_PATH) + 1 :])
            if method == "GET":
                return self._get(task_id)
            if method == "DELETE":
                return self._delete(task_id)
        return _error(404, "NotFound", f"The requested resource {method} {path} was not found.")

    def _not_found(self, task_id: str) -> _Response:
        return _error(404, "ResourceNotFound",
                      f"The specified task {task_id} is not found, or was created more than 7 days ago.", "id")

    def _get(self, task_id: str) -> _Response:
        with self._lock:
            raw = self._raw.get(task_id)
            if raw is not None:
                if raw.remaining is not None:
                    raw.remaining -= 1
                    if raw.remaining <= 0:
                        del self._raw[task_id]
                return _Response(raw.status, raw.body, raw.content_type)
            task = self._tasks.get(task_id)
            if task is None or not _in_window(task):
                return self._not_found(task_id)
            return _json(200, task.to_json(time.monotonic()))

    def _list(self, query: str) -> _Response:
        params = parse_qs(query, keep_blank_values=True)
        numbers: dict[str, int] = {}
        for name, default, low, high in (("page_num", 1, 1, None), ("page_size", 10, 1, 500)):
            text = params.get(name, [str(default)])[-1]
            try:
                value = int(text)
            except ValueError:
                value = low - 1
            if value < low or (high is not None and value > high):
                limits = f"between {low} and {high}" if high else f"at least {low}"
                return _error(400, "InvalidParameter", f"{name} must be an integer {limits}, got {text!r}.", name)
            numbers[name] = value
        wanted_status = params.get("filter.status", [""])[-1]
        wanted_model = params.get("filter.model", [""])[-1]
        wanted_ids = set(params.get("filter.task_ids", []))
        now = time.monotonic()
        with self._lock:
            tasks = sorted(self._tasks.values(), key=lambda t: (t.created_wall, t.seq), reverse=True)
            items = [t.to_json(now) for t in tasks
                     if _in_window(t) and (not wanted_status or t.status(now)[0] == wanted_status)
                     and (not wanted_model or wanted_model == t.endpoint
                          or (not self.endpoint_filter and wanted_model == t.model))
                     and (not wanted_ids or t.id in wanted_ids)]
        first = (numbers["page_num"] - 1) * numbers["page_size"]
        return _json(200, {"items": items[first : first + numbers["page_size"]], "total": len(items)})

    def _recorded(self, log: list[Any], body: bytes) -> Any:
        """The body as JSON (None if it is not), kept in ``log`` for the tests to read."""
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        with self._lock:
            log.append(request)
        return request

    def _create(self, body: bytes) -> _Response:
        request = self._recorded(self.create_requests, body)
        if not isinstance(request, dict):
            return _error(400, "InvalidParameter", "The request body must be a JSON object.")
        model = request.get("model")
        if not isinstance(model, str) or not model:
            return _error(400, "MissingParameter", "The parameter model is required.", "model")
        with self._lock:
            endpoint = model if model in self._endpoints else None
            model_id = self._endpoints.get(model, model)
            shut_down = any(row.get("id") == model_id and row.get("status") == "Shutdown" for row in self.models)
        rules = MODEL_RULES.get(model_id)
        if rules is None or shut_down:
            return _error(404, "InvalidEndpointOrModel.NotFound",
                          f"The model or endpoint {model} does not exist or you do not have access to it.", "model")
        content = request.get("content")
        if not isinstance(content, list) or not content:
            return _error(400, "MissingParameter", "The parameter content is required.", "content")
        images: list[tuple[int, object]] = []
        texts: list[tuple[int, str]] = []
        for index, item in enumerate(content):
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "image_url" and isinstance(item.get("image_url"), dict):
                images.append((index, item["image_url"].get("url")))
            elif kind == "text" and isinstance(item.get("text"), str):
                texts.append((index, item["text"]))
            else:
                return _error(400, "InvalidParameter", f"Unsupported content item {item!r}.", f"content[{index}]")
        fewest, most = rules.images
        if len(images) > most:
            return _error(400, "InvalidParameter", f"{model} takes at most {most} image(s), got {len(images)}.",
                          "content")
        if len(images) < fewest:
            return _error(400, "MissingParameter", f"{model} needs at least {fewest} image_url item(s).", "content")
        for index, url in images:
            problem = _check_image_url(url, rules)
            if problem:
                return _error(400, "InvalidParameter", problem, f"content[{index}].image_url")
        text_param = f"content[{texts[0][0]}].text" if texts else "content"
        params, problem = _parse_text(" ".join(text for _, text in texts), rules, len(images))
        if problem:
            return _error(400, "InvalidParameter", problem, text_param)
        if not images and not params.get("prompt"):
            return _error(400, "MissingParameter", f"{model} needs a text prompt or 1 to {most} images.", "content")
        fmt = rules.formats[params["fileformat"]]
        fields = ({"subdivisionlevel": params["subdivisionlevel"], "fileformat": fmt}
                  if rules.family == "seed3d" else {})
        queued_s, running_s = self.create_schedule
        with self._lock:
            result = self._create_results.get((rules.family, fmt), "")
            task_id = self._register(
                None, model=model_id, endpoint=endpoint, links={"file_url": result}, link_s=rules.link_s,
                model_fields=fields, usage_tokens=rules.usage_tokens(params), queued_s=queued_s,
                running_s=running_s, outcome="succeeded" if result else "failed",
                error_code="" if result else "InternalServiceError",
                error_message="" if result else f"This test server has no {fmt} result registered for {model_id}.",
                times_as_strings=False, extra_fields=None, status_override=None)
        return _json(200, {"id": task_id})

    def _images(self, body: bytes) -> _Response:
        """``POST /images/generations``: Seedream's pictures, made here (a disc of the prompt's colour)."""
        request = self._recorded(self.image_requests, body)
        if not isinstance(request, dict):
            return _error(400, "InvalidParameter", "The request body must be a JSON object.")
        problem = _check_images_request(request)
        if problem is not None:
            return problem
        prompt = request["prompt"]
        if CONTENT_CHECK_WORD in prompt.lower():
            return _error(400, "InputTextSensitiveContentDetected",
                          "The request failed because the input text may contain sensitive information.")
        if OUTPUT_CHECK_WORD in prompt.lower():
            return _error(400, "OutputImageSensitiveContentDetected",
                          "The request failed because the output image may contain sensitive information.")
        width, height = _SEEDREAM_SIZES.get(str(request.get("size", "2K")).upper()) or _wxh(str(request["size"]))
        count = _images_count(request)
        watermark = request.get("watermark", True) is not False
        data = []
        for index in range(count):
            png = picture_png(width, height, _prompt_colour(prompt, index), watermark=watermark)
            if request.get("response_format", "url") == "b64_json":
                data.append({"b64_json": base64.b64encode(png).decode("ascii"), "size": f"{width}x{height}"})
            else:
                url = self.add_file(f"image-{index + 1}.png", png)
                with self._lock:
                    self._files[url.split("/")[-2]].expires_at = self.now() + self.image_link_s
                data.append({"url": url, "size": f"{width}x{height}"})
        tokens = width * height // 256 * count
        return _json(200, {"model": request["model"], "created": int(time.time()), "data": data,
                           "usage": {"generated_images": count, "output_tokens": tokens, "total_tokens": tokens}})

    def _delete(self, task_id: str) -> _Response:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or not _in_window(task):
                return self._not_found(task_id)
            now = time.monotonic()
            status = task.status(now)[0]
            if status == "queued":
                task.cancelled_after = now - task.created_mono
            elif status in ("succeeded", "failed", "expired"):
                del self._tasks[task_id]
            else:
                return _error(400, "InvalidParameter",
                              f"The task {task_id} is {status}: only queued tasks can be cancelled, "
                              "and only succeeded, failed or expired tasks deleted.", "id")
        return _Response(200)


#: Each Seedream's size words and its total-pixel range (docs/ark-api-notes.md); aspect 1/16..16 for both.
_SEEDREAM_RULES = {SEEDREAM_4_5: (("2K", "4K"), 2560 * 1440, 4096 * 4096),
                   SEEDREAM_4_0: (("1K", "2K", "4K"), 1280 * 720, 4096 * 4096)}
_SEEDREAM_SIZES = {"1K": (1024, 1024), "2K": (2048, 2048), "4K": (4096, 4096)}


def _wxh(size: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", size.strip().lower())
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _images_count(request: dict[str, Any]) -> int:
    """One picture, or a set of ``max_images`` (sequential generation ``auto``)."""
    if request.get("sequential_image_generation") != "auto":
        return 1
    options = request.get("sequential_image_generation_options")
    most = options.get("max_images", 15) if isinstance(options, dict) else 15
    return int(most)


def _check_size(model: str, size: object) -> _Response | None:
    words, low, high = _SEEDREAM_RULES[model]
    text = str(size).strip().upper() if isinstance(size, str) else ""
    width, height = _SEEDREAM_SIZES[text] if text in words else _wxh(text)
    if not width or not low <= width * height <= high or not 1 / 16 <= width / height <= 16:
        return _error(400, "InvalidParameter", f"The parameter size '{size}' is invalid for {model}: "
                      f"{', '.join(words)} or WxH of {low} to {high} pixels, aspect ratio 1/16 to 16.", "size")
    return None


def _check_references(image: object, count: int) -> _Response | None:
    refs = [image] if isinstance(image, str) else image if isinstance(image, list) else None
    if refs is None or len(refs) > 14 or not all(isinstance(r, str) for r in refs):
        return _error(400, "InvalidParameter", "The parameter image must be a URL or a list of up to 14.", "image")
    for ref in refs:
        if not ref.startswith(("http://", "https://")) and not _DATA_URL.match(ref):
            return _error(400, "InvalidParameter", "An image must be an http(s) URL or a base64 data URL.", "image")
    if len(refs) + count > 15:
        return _error(400, "InvalidParameter", "Reference images and images to generate are at most 15.",
                      "sequential_image_generation_options.max_images")
    return None


def _check_images_request(request: dict[str, Any]) -> _Response | None:
    """Why Seedream would refuse this body, or None."""
    model = request.get("model")
    if model not in _SEEDREAM_RULES:
        return _error(404, "InvalidEndpointOrModel.NotFound",
                      f"The model or endpoint {model} does not exist or you do not have access to it.", "model")
    if not isinstance(request.get("prompt"), str) or not request["prompt"].strip():
        return _error(400, "MissingParameter", "The parameter prompt is required.", "prompt")
    problem = _check_size(model, request.get("size", "2K"))
    if problem is not None:
        return problem
    if request.get("response_format", "url") not in ("url", "b64_json"):
        return _error(400, "InvalidParameter", "response_format must be url or b64_json.", "response_format")
    if not isinstance(request.get("watermark", True), bool):
        return _error(400, "InvalidParameter", "watermark must be a boolean.", "watermark")
    seed = request.get("seed", -1)
    if not isinstance(seed, int) or isinstance(seed, bool) or not -1 <= seed <= 2147483647:
        return _error(400, "InvalidParameter", "seed must be an integer from -1 to 2147483647.", "seed")
    mode = request.get("sequential_image_generation", "disabled")
    options = request.get("sequential_image_generation_options", {})
    most = options.get("max_images", 15) if isinstance(options, dict) else None
    if mode not in ("auto", "disabled") or not isinstance(most, int) or isinstance(most, bool) or not 1 <= most <= 15:
        return _error(400, "InvalidParameter", "sequential_image_generation is auto or disabled, max_images 1 to 15.",
                      "sequential_image_generation_options.max_images")
    if "image" in request:
        return _check_references(request["image"], _images_count(request))
    return None


def _prompt_colour(prompt: str, index: int) -> tuple[int, int, int]:
    """The object's colour: from the prompt's hash (the same prompt, the same colour), a shade per picture of a set."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    return tuple((digest[i] // 2 + 40 + 23 * index) % 256 for i in range(3))  # type: ignore[return-value]


#: The stand-in's watermark: a dark box in the bottom-right corner, where Ark puts its "AI generated" mark.
WATERMARK_RGB = (24, 24, 24)
BACKGROUND_RGB = (244, 244, 244)


def picture_png(width: int, height: int, colour: tuple[int, int, int], *, watermark: bool) -> bytes:
    """A plain picture of one centred disc on a light background, as an image-to-3D model wants it;
    with ``watermark`` a dark box fills the bottom-right corner (the last 20 % of the width, 6 % of the height)."""
    background, fill, mark = bytes(BACKGROUND_RGB), bytes(colour), bytes(WATERMARK_RGB)
    radius = min(width, height) * 0.3
    mark_x, mark_y = int(width * 0.8), int(height * 0.94)
    raw = bytearray()
    for y in range(height):
        row = bytearray(background * width)
        dy = y + 0.5 - height / 2
        if abs(dy) < radius:
            half = int((radius * radius - dy * dy) ** 0.5)
            left = max(0, width // 2 - half)
            row[left * 3 : (width // 2 + half) * 3] = fill * (width // 2 + half - left)
        if watermark and y >= mark_y:
            row[mark_x * 3 :] = mark * (width - mark_x)
        raw += b"\x00" + row
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 1))
            + chunk(b"IEND", b""))


def _in_window(task: _Task) -> bool:
    """Ark answers for (and lists) the tasks created in the last 7 days only, ``[now - 7 d, now)``,
    and a cancelled task only for 24 hours after it was cancelled."""
    if time.time() - task.created_wall >= LIST_WINDOW_S:
        return False
    now = time.monotonic()
    status, since = task.status(now)
    return status != "cancelled" or now - task.created_mono - since < CANCELLED_KEPT_S


def _ark_file_name(data: bytes | pathlib.Path, fileformat: str) -> str:
    """A result name like Ark's for Hyper3D and Hitem3D (``<hex>.glb``), fixed for given content."""
    digest = hashlib.sha256(data.read_bytes() if isinstance(data, pathlib.Path) else data).hexdigest()
    return f"0217{digest[:48]}.{fileformat}"


# -- script mode -------------------------------------------------------------------------------

#: The demo's bare results of the other models (made by make_demo_assets.py): name -> model, format.
DEMO_BARE_RESULTS = {"hyper3d_fbx.fbx": (HYPER3D_MODEL, "fbx"), "hitem3d_stl.stl": (HITEM3D_MODEL, "stl")}
#: The demo video task's last frame (a render of the demo model).
DEMO_LAST_FRAME = "video_last_frame.png"


def _zip_format(path: pathlib.Path) -> str | None:
    """The model format a result zip holds, judged by its members (names may be GBK)."""
    try:
        with zipfile.ZipFile(path) as archive:
            suffixes = {name.rsplit(".", 1)[-1].lower() for name in archive.namelist() if "." in name}
    except zipfile.BadZipFile:
        return None
    return next((fmt for fmt in ("glb", "usdz", "usd", "obj") if fmt in suffixes), None)


def register_demo(server: ArkServer, asset_dir: pathlib.Path) -> list[dict[str, Any]]:
    """The demo's task set from the results in ``asset_dir``; returns their descriptions.

    One Seed3D task per result zip, a Hyper3D Gen2 task whose result is a bare FBX, a Hitem3D 2.0
    task whose result is a bare STL, a Seedance video task and a task that fails.  Tasks created
    through POST then serve the zip named after their format (``*_glb.zip``...), or the FBX/STL
    for those two models.  The demo also filters the task list by endpoint id, as Ark documents.
    The descriptions give the schedule in real seconds, i.e. after ``time_scale``.
    """
    server.endpoint_filter = True
    queued_s, running_s = DEMO_SCHEDULE
    scaled = {"queued_s": round(queued_s * server.time_scale, 3), "running_s": round(running_s * server.time_scale, 3)}
    found = [(path, fmt) for path in asset_dir.glob("*.zip") if (fmt := _zip_format(path))]
    # The zip named after its format (seed3d_obj.zip) is that format's canonical demo: list it first.
    found.sort(key=lambda item: (not item[0].stem.endswith(f"_{item[1]}"), item[0].name))
    described: list[dict[str, Any]] = []
    for path, fmt in found:
        task_id = server.add_task(file=server.add_file(path.name, path), fileformat=fmt,
                                  queued_s=queued_s, running_s=running_s)
        described.append({"task_id": task_id, "model": DEFAULT_MODEL, "kind": "3d", "fileformat": fmt,
                          "archive": path.name, **scaled, "outcome": "succeeded"})
        if path.stem.endswith(f"_{fmt}"):
            server.set_create_result(fmt, path)
    for name, (model, fmt) in DEMO_BARE_RESULTS.items():
        path = asset_dir / name
        if not path.is_file():
            continue
        task_id = server.add_task(file=server.add_file(_ark_file_name(path, fmt), path), model=model,
                                  queued_s=queued_s, running_s=running_s,
                                  usage_tokens=MODEL_RULES[model].usage_tokens(MODEL_RULES[model].defaults))
        described.append({"task_id": task_id, "model": model, "kind": "3d", "fileformat": fmt, "archive": None,
                          "file": name, **scaled, "outcome": "succeeded"})
        server.set_create_result(fmt, path, model=model)
    last_frame = asset_dir / DEMO_LAST_FRAME
    task_id = server.add_video_task(video=server.add_file(_ark_file_name(PLACEHOLDER_MP4, "mp4"), PLACEHOLDER_MP4),
                                    last_frame=str(last_frame) if last_frame.is_file() else None,
                                    queued_s=queued_s, running_s=running_s)
    described.append({"task_id": task_id, "model": VIDEO_MODEL, "kind": "video", "fileformat": None,
                      "archive": None, **scaled, "outcome": "succeeded"})
    task_id = server.add_task(queued_s=queued_s, running_s=running_s, outcome="failed",
                              error_code="InputImageSensitiveContentDetected",
                              error_message="The request failed because the input image may contain "
                                            "sensitive information.")
    described.append({"task_id": task_id, "model": DEFAULT_MODEL, "kind": "3d", "fileformat": "glb",
                      "archive": None, **scaled, "outcome": "failed"})
    return described


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a local Ark-compatible 3D task API and file host.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8400, help="API port (0: any free port)")
    parser.add_argument("--file-port", type=int, default=8401, help="file host port (0: any free port)")
    parser.add_argument("--key", default="demo-key", help="the API key clients must send")
    parser.add_argument("--demo", type=pathlib.Path, metavar="ASSET_DIR",
                        help="register the demo tasks for the results in this folder")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies every task schedule")
    args = parser.parse_args(argv)
    if args.demo and not args.demo.is_dir():
        # Without its results the demo would serve only the video and the failed task, silently.
        parser.error(f"--demo {args.demo}: no such folder. Make the demo results first: "
                     f".venv/bin/python scripts/make_demo_assets.py {args.demo} (scripts/demo.sh does it)")

    server = ArkServer(args.key, args.host, args.time_scale, port=args.port, file_port=args.file_port)
    server.create_schedule = DEMO_SCHEDULE
    tasks = register_demo(server, args.demo) if args.demo else []
    server.start()
    print(json.dumps({"api_base": server.api_base, "file_base": server.file_base}), flush=True)
    for task in tasks:
        print(json.dumps(task), flush=True)

    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    while not done.wait(0.5):  # a timed wait, so signals are handled promptly on every platform
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
