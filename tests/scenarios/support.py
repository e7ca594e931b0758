"""What every hostile scenario shares: the invariants checked after it, and small helper servers.

:class:`Scenario` runs the add-on's core (``ImportJob``, the CLI) in a temporary folder that
holds the library and, beside it, canary files.  After the test it asserts what must hold
whatever went wrong:

- nothing was created, changed or removed outside the library's task folders;
- no ``.part`` or ``.tmp-*`` is left (unless the scenario keeps a resumable ``.part``);
- no thread of the add-on is still alive;
- the API key appears nowhere: not in an exception (``str``, ``repr``, ``args``,
  ``user_message()``, ``as_dict()``), a job state, the captured stdout/stderr or log, a
  subprocess's output, any file under the temporary folder (``task.json`` included), nor in
  a request the file host received.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ark3d_addon.core.errors import ArkError
from ark3d_addon.core.job import ImportJob, JobResult, JobState
from ark3d_addon.core.library import Library
from ark3d_addon.core.settings import Settings
from ark_server import ArkServer
from tests.core.test_archive import make_zip, raw_info  # noqa: F401 - re-exported for the scenarios

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-ark3d-SECRET-123"
OBJ = "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nusemtl mat\nf 1/1 2/2 3/3\n"


def zip_bytes(entries: Iterable[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip in memory, built with the hostile-name helpers of tests/core/test_archive.py."""
    buf = io.BytesIO()
    make_zip(buf, list(entries), method)  # type: ignore[arg-type] - zipfile takes a file object too
    return buf.getvalue()


def glb(doc: dict[str, Any] | None = None) -> bytes:
    """A minimal binary glTF whose JSON chunk is ``doc``."""
    payload = json.dumps(doc or {"asset": {"version": "2.0"}}).encode()
    payload += b" " * (-len(payload) % 4)
    return (b"glTF" + (2).to_bytes(4, "little") + (20 + len(payload)).to_bytes(4, "little")
            + len(payload).to_bytes(4, "little") + b"JSON" + payload)


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root (links not followed) with its content; None for folders and links."""
    result: dict[str, bytes | None] = {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(base, name)
            rel = path.relative_to(root).as_posix()
            result[rel] = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return result


def addon_threads() -> list[threading.Thread]:
    """Live threads started by the add-on: named ``ark3d...`` or running its code."""
    found = []
    for thread in threading.enumerate():
        target = getattr(thread, "_target", None)
        module = getattr(target, "__module__", "") or ""
        if thread.name.startswith("ark3d") or module.startswith("ark3d_addon"):
            found.append(thread)
    return found


def texts_of(error: BaseException) -> list[str]:
    """Every way an error can be shown: str, repr, args, user_message, as_dict, and its chain."""
    texts: list[str] = []
    seen: set[int] = set()
    item: BaseException | None = error
    while item is not None and id(item) not in seen:
        seen.add(id(item))
        texts += [str(item), repr(item), repr(item.args)]
        if isinstance(item, ArkError):
            texts += [item.user_message(), json.dumps(item.as_dict(), ensure_ascii=False)]
        item = item.__cause__ or item.__context__
    return texts


@dataclass
class Scenario:
    """A temporary world for one scenario; :meth:`problems` lists every broken invariant."""

    root: Path
    server: ArkServer
    secrets: set[str] = field(default_factory=lambda: {KEY})
    errors: list[BaseException] = field(default_factory=list)
    states: list[JobState] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    jobs: list[ImportJob] = field(default_factory=list)
    task_ids: set[str] = field(default_factory=set)
    #: Task ids whose ``result.zip.part`` may stay: the scenario expects a resumable download.
    keep_part: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.lib_root = self.root / "library"
        self.library = Library(self.lib_root)
        (self.root / "outside").mkdir()
        (self.root / "outside" / "keep.txt").write_text("untouched")
        (self.root / "secret.png").write_bytes(b"\x89PNG canary: must never be read by an import")
        self.before = snapshot(self.root)
        self.threads_before = set(threading.enumerate())

    # -- building blocks ------------------------------------------------------------------

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {"api_key": KEY, "base_url": self.server.api_base, "poll_interval": 0.1}
        values.update(overrides)
        return Settings(**values)

    def serve(self, data: bytes | Path, name: str = "result.zip", **file_options: Any) -> str:
        """Put ``data`` on the file host behind a succeeded task; returns the task id (its folder is allowed)."""
        task_id = self.server.add_task(file=self.server.add_file(name, data, **file_options))
        self.task_ids.add(task_id)
        return task_id

    def job(self, task_id: str, *, settings: Settings | None = None, library: Library | None = None,
            watch: Callable[[JobState], None] | None = None, **options: Any) -> ImportJob:
        """An ImportJob with short error budget and stall timeout; ``watch`` sees every state too."""
        options.setdefault("poll_error_budget", 2.0)
        options.setdefault("stall_timeout", 1.0)

        def on_state(state: JobState) -> None:
            self.states.append(state)
            if watch is not None:
                watch(state)

        job = ImportJob(task_id, settings or self.settings(), library or self.library, on_state=on_state, **options)
        self.jobs.append(job)
        self.task_ids.add(job.task_id)
        return job

    def run(self, task_id: str, **options: Any) -> JobResult:
        return self.job(task_id, **options).run()

    def fail(self, task_id: str, error_type: type[ArkError] = ArkError, **options: Any) -> ArkError:
        """Run a job that must fail with ``error_type``; the error is kept for the key check."""
        job = self.job(task_id, **options)
        with pytest.raises(error_type) as info:
            job.run()
        self.errors.append(info.value)
        assert job.snapshot().phase == "failed" and job.snapshot().error is info.value
        return info.value

    def refused(self, error_type: type[ArkError], call: Callable[[], object]) -> ArkError:
        """``call()`` must raise ``error_type``; the error is kept for the key check."""
        with pytest.raises(error_type) as info:
            call()
        self.errors.append(info.value)
        return info.value

    def cli(self, *args: str, env: dict[str, str] | None = None, key: str = KEY,
            prefix: list[str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``python -m ark3d_addon ...`` with the key and base URL in the environment."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("ARK")}
        full_env.update({"ARK_API_KEY": key, "ARK_BASE_URL": self.server.api_base, "PYTHONPATH": str(REPO)})
        full_env.update(env or {})
        proc = subprocess.run([*(prefix or []), sys.executable, "-m", "ark3d_addon", *args], capture_output=True,
                              text=True, env=full_env, cwd=REPO, timeout=timeout)
        self.outputs += [proc.stdout, proc.stderr]
        return proc

    def cli_popen(self, *args: str) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARK")}
        env.update({"ARK_API_KEY": KEY, "ARK_BASE_URL": self.server.api_base, "PYTHONPATH": str(REPO)})
        return subprocess.Popen([sys.executable, "-m", "ark3d_addon", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)

    def file_gets(self) -> list[Any]:
        return [r for r in self.server.requests_log if r.server == "file" and r.method == "GET"]

    def task_files(self, task_id: str) -> list[str]:
        folder = self.library.task_dir(task_id)
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []

    # -- the invariants ---------------------------------------------------------------------

    def problems(self, captured: str) -> list[str]:
        found: list[str] = []

        def new_threads() -> list[threading.Thread]:
            return [t for t in addon_threads() if t not in self.threads_before]

        deadline = time.monotonic() + 1.0  # a worker may be returning from its last line
        while new_threads() and time.monotonic() < deadline:
            time.sleep(0.02)
        found += [f"thread left behind: {t.name}" for t in new_threads()]
        found += [f"job {j.task_id} still running" for j in self.jobs if j.alive]

        after = snapshot(self.root)
        for rel, content in self.before.items():
            if rel not in after:
                found.append(f"removed: {rel}")
            elif after[rel] != content:
                found.append(f"changed: {rel}")
        lib = self.lib_root.relative_to(self.root).as_posix()
        for rel in after:
            if rel in self.before or rel == lib:
                continue
            parts = rel.split("/")
            if parts[0] != lib or len(parts) < 2 or parts[1] not in self.task_ids:
                found.append(f"written outside the task folders: {rel}")
                continue
            name = parts[-1]
            if name.endswith(".part") and not (len(parts) == 3 and name == "result.zip.part"
                                               and parts[1] in self.keep_part):
                found.append(f"partial file left: {rel}")
            if any(p.startswith(".tmp-") for p in parts):
                found.append(f"temporary file left: {rel}")

        texts = [captured, *self.outputs]
        for error in self.errors:
            texts += texts_of(error)
        for state in self.states:
            texts += [str(state.text), repr(state)]
            if state.error is not None:
                texts += texts_of(state.error)
        for job in self.jobs:
            texts.append(repr(job.snapshot()))
        for secret in self.secrets:
            if any(secret in text for text in texts):
                found.append(f"the key {secret[:6]}... appears in an error, a state or an output")
            leaked = [rel for rel, content in after.items() if content is not None and secret.encode() in content]
            found += [f"the key {secret[:6]}... is written in {rel}" for rel in leaked]
            for request in self.server.requests_log:
                if request.server == "file" and any(secret in v for v in request.headers.values()):
                    found.append(f"the key {secret[:6]}... was sent to the file host: {request.path}")
        return found

    def stop_jobs(self) -> None:
        """After the checks: stop what a failed scenario left running, so the next one starts clean."""
        for job in self.jobs:
            job.cancel()
        for job in self.jobs:
            job.join(5)


# -- helper servers ----------------------------------------------------------------------------


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up is part of the scenarios


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


class HelperServer:
    """A loopback HTTP server whose handler is a function; every request is recorded."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], None], name: str) -> None:
        self.seen: list[Seen] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:  # base class name
                pass

            def _any(self) -> None:
                outer.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
                answer(self)

            do_GET = do_POST = do_DELETE = do_HEAD = do_CONNECT = _any  # http.server names

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name=f"helper-{name}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def redirector(location: Callable[[str], str]) -> HelperServer:
    """Answers every request with ``302 Location: location(path)``."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location(handler.path))
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return HelperServer(answer, "redirector")


def forwarding_proxy() -> HelperServer:
    """An HTTP proxy: forwards absolute-URI requests, tunnels CONNECT; records what it saw."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        if handler.command == "CONNECT":
            _tunnel(handler)
            return
        target = urlsplit(handler.path)
        conn = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=10)
        headers = {k: v for k, v in handler.headers.items() if not k.lower().startswith("proxy-")}
        headers["Connection"] = "close"
        path = target.path + (f"?{target.query}" if target.query else "")
        try:
            conn.request(handler.command, path, headers=headers)
            resp = conn.getresponse()
            handler.send_response(resp.status, resp.reason)
            for name, value in resp.getheaders():
                if name.lower() not in ("connection", "transfer-encoding", "keep-alive"):
                    handler.send_header(name, value)
            handler.end_headers()
            while chunk := resp.read(65536):
                handler.wfile.write(chunk)
        finally:
            conn.close()

    return HelperServer(answer, "proxy")


def _tunnel(handler: BaseHTTPRequestHandler) -> None:
    host, _, port = handler.path.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=10) as upstream:
        handler.send_response(200, "Connection established")
        handler.end_headers()
        handler.wfile.flush()
        client = handler.connection
        peers = {client: upstream, upstream: client}
        while True:
            readable, _, _ = select.select(list(peers), [], [], 10)
            if not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                peers[sock].sendall(data)


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost and its key, made with ``openssl req``."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    proc = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True, text=True, timeout=60,
    )
    if proc.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {proc.stderr[-500:]}")
    return cert, key


def company_ca_chain(folder: Path, names: str = "IP:127.0.0.1, DNS:localhost") -> tuple[Path, Path, Path]:
    """A company CA as TLS-inspecting networks have them, without the keyUsage extension (Python
    3.13's VERIFY_X509_STRICT refuses it, 3.11 accepts it), and a certificate it signed for
    127.0.0.1/localhost (``names``: its subjectAltName) that is right in every other way.  Returns
    the CA's certificate, the server's certificate and the server's key."""
    (folder / "ca.cnf").write_text(
        "[req]\ndistinguished_name = dn\n[dn]\n"
        "[ca]\nbasicConstraints = critical, CA:TRUE\nsubjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid:always\n"
        "[leaf]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n"
        f"extendedKeyUsage = serverAuth\nsubjectAltName = {names}\n"
        "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
        encoding="utf-8",
    )
    ca, ca_key = folder / "company-ca.pem", folder / "company-ca.key"
    cert, key, csr = folder / "server.pem", folder / "server.key", folder / "server.csr"
    config = str(folder / "ca.cnf")
    steps = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
         "-days", "2", "-subj", "/O=Example Corp/CN=Example Corp TLS Inspection CA", "-config", config,
         "-extensions", "ca"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
         "-subj", "/CN=127.0.0.1", "-config", config],
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-set_serial", "2",
         "-out", str(cert), "-days", "2", "-extfile", config, "-extensions", "leaf"],
    ]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            pytest.skip(f"openssl could not make the company CA: {proc.stderr[-500:]}")
    return ca, cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
