"""The import job as plain Python: poll, download, extract; cancellable; reports progress.

The same :class:`ImportJob` serves every entry point: Blender's modal operator runs it in a
worker thread and reads :meth:`ImportJob.snapshot` from its timer, background Blender and the
command line call :meth:`ImportJob.run` directly.  The job never touches ``bpy``; it ends with
the path of the model file to import, which the Blender layer imports on the main thread.

Flow, under an inter-process lock on the task's library folder (so a second import of the
same task, from this or another Blender, waits and then finds the files instead of
downloading twice):

1. the library already holds the extracted result: done, no request at all (works offline
   and after the 24-hour link died);
2. else poll the task until it is final, saving its JSON in the library at each change;
3. download ``content.file_url`` (resumable), extract it safely, choose the model.

A job may also start from a create request (an image, :mod:`.image_input`): it first submits
the create call once (:func:`~.create.submit_create`, never blindly retried), and from the
moment the task id is known it is an import job like any other: the library folder is locked,
and the flow above follows.

With ``journal=True`` the job records itself in the library (``job.json``) once it has work to
do, and removes that record when it ends: done (:meth:`ImportJob.close_journal`, after the
import), failed, or cancelled by the user (:meth:`ImportJob.cancel`, which also removes the
partial files).  :meth:`ImportJob.stop` (Blender quits, the add-on is disabled) ends the worker
but keeps the journal and the partial download, so a later Blender resumes the job.  At most
:data:`~.slots.DOWNLOAD_SLOTS` jobs download at once; the others wait in line.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .archive import ModelFile, choose_model, find_models, unpack
from .catalog import HITEM3D, find_model
from .client import ArkClient
from .create import submit_create
from .download import DownloadProgress, check_url, download
from .errors import (
    ApiError,
    ArchiveError,
    ArkError,
    Cancelled,
    ErrorCode,
    LinkExpired,
    TaskCancelled,
    TaskFailed,
    scrub,
)
from .library import JobJournal, Library
from .messages import Message, ark_words, format_bytes, format_duration, msg, verbatim
from .phases import JobKind, JobState, Phase
from .poller import POLL_ERROR_BUDGET_S, Poller
from .references import outside_references
from .retention import LINK_LIFETIME_S, duration, link_lifetime
from .settings import Settings
from .slots import DOWNLOAD_SLOTS, DownloadSlots
from .task import Status, Task, parse_task, validate_task_id
from .worker import Worker, internal_error

__all__ = ["JobResult", "JobState", "ImportJob"]

#: A download that receives (next to) nothing for this long is retried, then abandoned.
STALL_TIMEOUT_S = 30.0
#: Extraction errors that say nothing against the zip itself: it is kept for the next try.
_KEEP_ZIP_CODES = frozenset({ErrorCode.DISK_FULL, ErrorCode.WRITE_FAILED})


@dataclass(frozen=True)
class JobResult:
    task_id: str
    model: ModelFile
    files_dir: Path
    task: Task | None
    from_library: bool


_new_job_numbers = itertools.count(1)


class ImportJob:
    """Fetch one task's result into the library and pick the model to import.

    ``task_id`` None with ``create`` (the create call's JSON, :func:`~.image_input.create_body`)
    makes a generate job: the task is created first, and :attr:`task_id` is set once Ark
    answered.  :attr:`key` names the job before that (``new-1``...).
    """

    def __init__(
        self,
        task_id: str | None,
        settings: Settings,
        library: Library,
        *,
        variant: str | None = None,
        on_state: Callable[[JobState], None] | None = None,
        poll_error_budget: float = POLL_ERROR_BUDGET_S,
        stall_timeout: float = STALL_TIMEOUT_S,
        create: dict[str, object] | None = None,
        journal: bool = False,
        import_when_ready: bool = True,
        resumed: JobJournal | None = None,
        slots: DownloadSlots | None = None,
    ) -> None:
        if task_id is None and create is None:
            raise ValueError("an ImportJob needs a task id or a create request")
        self.task_id = validate_task_id(task_id) if task_id is not None else ""
        #: A name for the job that never changes: the task id, or ``new-<n>`` for a create.
        self.key = self.task_id or f"new-{next(_new_job_numbers)}"
        self.create = create if not self.task_id else None
        #: Generate (also once resumed) or import.
        self.kind = JobKind.GENERATE if self.create is not None else (resumed.kind if resumed else JobKind.IMPORT)
        #: The model and file format asked for, when this job creates the task (for the journal).
        self.model = str(create.get("model", "")) if create else (resumed.model if resumed else "")
        self.fileformat = _fileformat_of(create) if create else (resumed.fileformat if resumed else "")
        self.journal = journal or resumed is not None
        self.import_when_ready = resumed.import_when_ready if resumed is not None else import_when_ready
        self.resumed = resumed
        self.slots = slots if slots is not None else DOWNLOAD_SLOTS
        self._journal_written = resumed is not None
        self._fresh_folder = False  # the task's library folder did not exist when the job began
        self._discard = False  # set by cancel(): the user's cancel removes partial files and the journal
        self.settings = settings
        self.library = library
        self.variant = variant or settings.variant
        self.poll_error_budget = poll_error_budget
        self.stall_timeout = stall_timeout
        self.cancel_event = threading.Event()
        self._on_state = on_state
        self._lock = threading.Lock()
        self._state = JobState()
        self._worker: Worker[JobResult] | None = None
        self.result: JobResult | None = None
        self.task: Task | None = None

    # -- threading --------------------------------------------------------------------

    def start(self) -> None:
        """Run in a daemon worker thread; watch :meth:`snapshot` for progress."""
        self._worker = Worker(lambda _cancel: self.run(), name=f"ark3d-{self.key}", secret=self.settings.api_key,
                              cancel=self.cancel_event).start()

    def cancel(self) -> None:
        """The user's cancel: the worker stops, partial files and the journal are removed.

        A generate job whose task Ark still holds in its queue also cancels that task there
        (it has not cost anything yet).
        """
        self._discard = True
        self.cancel_event.set()

    def stop(self) -> None:
        """End the worker but keep the partial download and the journal: Blender is going away,
        and the next one resumes the job."""
        self.cancel_event.set()

    @property
    def label(self) -> str:
        """What the UI calls the job: the task id, or "New task" until Ark gave one."""
        return self.task_id or "New task"

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker; True when it has stopped."""
        return self._worker is None or self._worker.join(timeout)

    @property
    def alive(self) -> bool:
        return self._worker is not None and self._worker.alive

    def snapshot(self) -> JobState:
        with self._lock:
            return self._state

    def _set(self, state: JobState) -> None:
        with self._lock:
            self._state = state
        if self._on_state is not None:
            self._on_state(state)

    # -- the work ---------------------------------------------------------------------

    def run(self) -> JobResult:
        """Do the whole job in the calling thread.

        Raises :class:`ArkError` on a failure the user can act on; a bug's own exception
        propagates unchanged (after the state says the job failed), so its traceback is kept.
        """
        try:
            self.result = self._run()
        except Cancelled as exc:
            if self._discard:
                self._discard_everything()
                self._set(JobState(Phase.CANCELLED, msg("Cancelled"), None, exc))
            else:
                stopped = (msg("Stopped (it resumes when Blender starts again)") if self._journal_written
                           else msg("Stopped"))
                if not self._journal_written:
                    self._forget_records()
                self._set(JobState(Phase.CANCELLED, stopped, None, exc))
            raise
        except ArkError as exc:
            scrub(exc, self.settings.api_key)
            self._end_journal()
            if exc.code == ErrorCode.NOT_A_3D_TASK or self._never_described(exc):
                self._forget_folder()  # not a 3D task, or no task at all: nothing of it belongs in the library
            else:
                self._forget_records()
            self._set(JobState(Phase.FAILED, exc.what, None, exc))
            raise
        except OSError as exc:
            reason = exc.strerror or str(exc)
            error = ArkError(
                msg("Could not write to the library ({file}): {reason}", file=str(exc.filename), reason=reason)
                if exc.filename else msg("Could not write to the library: {reason}", reason=reason),
                code=ErrorCode.DISK_ERROR,
                hint=msg("Free some disk space or choose another library folder in the add-on preferences"),
            )
            self._end_journal()
            self._set(JobState(Phase.FAILED, error.what, None, error))
            raise error from None
        except Exception as exc:
            # A bug: the job ends visibly (the UI must not wait for it), and the exception goes on
            # to whoever runs the job (the worker, the command line), which prints its traceback.
            error = internal_error(exc, self.settings.api_key)
            self._end_journal()
            self._set(JobState(Phase.FAILED, error.what, None, error))
            raise
        name = self.result.model.path.name
        if not self.import_when_ready:
            self._end_journal()  # nothing left to do for this job
            self._set(JobState(Phase.READY, msg("{file} is in the library", file=name), 1.0))
        else:
            self._set(JobState(Phase.READY, msg("Importing {file}", file=name), 1.0))
        return self.result

    # -- the journal --------------------------------------------------------------------

    def _write_journal(self) -> None:
        if not self.journal or self._journal_written or not self.task_id:
            return
        self.library.journal_write(JobJournal(
            task_id=self.task_id,
            kind=self.kind,
            variant=self.variant,
            import_when_ready=self.import_when_ready,
            created_at=time.time(),
            model=self.model,
            fileformat=self.fileformat,
        ))
        self._journal_written = True

    def _end_journal(self) -> None:
        if self.journal and self.task_id:
            try:
                self.library.journal_remove(self.task_id)
            except (OSError, ArkError):
                pass  # a journal that cannot be removed only means one more resume attempt
        self._journal_written = False

    def close_journal(self) -> None:
        """The model was imported (or its import failed): the job is over, nothing to resume."""
        self._end_journal()

    def _discard_everything(self) -> None:
        """The user cancelled: remove partial files and the journal; cancel a still-queued new task."""
        if not self.task_id:
            return
        try:
            self.library.clear_partial(self.task_id)
        except OSError:
            pass
        self._end_journal()
        self._forget_folder()
        # Only a task known to be queued: DELETE on a finished one would delete its record.
        # Not yet queried: queued if this job has just created it, unknown if resumed.
        queued = self.task.status is Status.QUEUED if self.task is not None else self.resumed is None
        if self.kind is JobKind.GENERATE and queued:
            self._cancel_on_ark()

    def _never_described(self, exc: ArkError) -> bool:
        """An import whose task Ark never described: a 404 (a mistyped id, another region's, one
        older than 7 days), or a first query that failed (no key, no network).  Its folder would
        hold only a ``.lock``, which the library (the Tasks browser, ``list``) would show as a
        partial result for ever.  A resumed job's folder may hold a partial download: kept,
        unless Ark says the task does not exist."""
        if self.kind is not JobKind.IMPORT or self.task is not None:
            return False
        return self.resumed is None or (isinstance(exc, ApiError) and exc.http_status == 404)

    def _forget_folder(self) -> None:
        """Leave no task folder this job made for nothing (its ``.lock``, ``task.json``...).

        Only a folder that did not exist when the job began (one that did holds an earlier
        result, or another job's work), and not once the download is complete: a cancel during
        the extraction keeps the zip, the result's one copy once the link is gone.
        """
        if self._fresh_folder and not self.library.zip_path(self.task_id).exists():
            self.library.discard(self.task_id)

    def _forget_records(self) -> None:
        """A job that failed or stopped before it downloaded anything leaves no folder holding only
        its records (``task.json``): a run again starts from Ark's answer, and the library would
        list it as a partial result.  A partial download, or anything else in the folder, stays."""
        if self.task_id and self.library.holds_only_records(self.task_id):
            self.library.discard(self.task_id)

    def _cancel_on_ark(self) -> None:
        """Best effort: a task still queued costs nothing yet; the DELETE call cancels it."""
        client = ArkClient(self.settings, max_retries=0)
        try:
            client.delete_task(self.task_id)
        except ArkError:
            pass  # it started running meanwhile, or the network is gone: nothing more to do
        finally:
            client.close()

    # -- the work ---------------------------------------------------------------------

    def _run(self) -> JobResult:
        self.library.check_writable()
        creating = self.create is not None
        if self.create is not None:
            self._submit(self.create)
        # A folder made by this job (or, resumed, by the run it continues) is removed if the job
        # ends with nothing to keep; one holding a result is not this job's to remove.
        self._fresh_folder = creating or not self.library.task_dir(self.task_id).exists() or (
            self.resumed is not None and not self.library.is_extracted(self.task_id))
        if creating:
            self._write_journal()  # at once: from here on, a crash must not lose the paid task
        self._set(JobState(Phase.STARTING, msg("Waiting for the library"), None))
        with self.library.lock(self.task_id, cancel=self.cancel_event):
            self.library.clear_temp(self.task_id)  # what a crash left; we hold the lock
            cached = self._from_library()
            if cached is not None:
                return cached
            self._write_journal()
            task = self._poll()
            zip_path = self.library.zip_path(self.task_id)
            if not zip_path.exists():
                self._download(task, zip_path)
            return self._extract(task, zip_path, from_library=False)

    def _submit(self, body: dict[str, object]) -> None:
        """The create call, once; afterwards this job is an import job of the new task."""
        self._set(JobState(Phase.CREATING, msg("Creating the task (sending the image)"), None))
        client = ArkClient(self.settings, cancel=self.cancel_event)
        try:
            task_id = submit_create(client, body)
        finally:
            client.close()
        self.task_id = validate_task_id(task_id)
        self.create = None  # the image is sent: let go of it (a data URL of up to 13 MB)
        self._set(JobState(Phase.QUEUED, msg("Created {task_id}", task_id=self.task_id), None))

    def _from_library(self) -> JobResult | None:
        """The offline path: results already extracted (or downloaded) need no request."""
        files = self.library.files_dir(self.task_id)
        saved = self.library.load_task(self.task_id)
        task = _parse_saved(saved)
        if self.library.is_extracted(self.task_id):
            model = choose_model(find_models(files), self.variant, root=files)
            return JobResult(self.task_id, model, files, task, from_library=True)
        zip_path = self.library.zip_path(self.task_id)
        if zip_path.exists():
            return self._extract(task, zip_path, from_library=True)
        return None

    def _poll(self) -> Task:
        client = ArkClient(self.settings, cancel=self.cancel_event)
        try:
            self._set(JobState(Phase.STARTING, msg("Asking Ark about {task_id}", task_id=self.task_id), None))
            poller = Poller(client, self.settings.poll_interval, self.cancel_event, error_budget=self.poll_error_budget,
                            on_retry=self._poll_retrying)
            task = poller.wait_final(self.task_id, self._on_task)
        finally:
            client.close()
        if task.status is Status.FAILED:
            err = task.error
            reason = ark_words(err.message) if err and err.message else msg("no reason given")
            raise TaskFailed(
                msg("Ark could not generate this model: {reason}", reason=reason),
                code=err.code if err else "",
                hint=_failure_hint(err.code if err else ""),
            )
        if task.status is Status.CANCELLED:
            raise TaskCancelled(
                msg("Task {task_id} was cancelled before it ran", task_id=self.task_id),
                code=ErrorCode.CANCELLED,
                hint=msg("Create the task again to get a model"),
            )
        if task.status is Status.EXPIRED:
            raise TaskCancelled(
                msg("Task {task_id} expired before Ark finished it", task_id=self.task_id),
                code=ErrorCode.TASK_EXPIRED,
                hint=msg("Ark gives up on a task that waits longer than its time limit "
                         "(execution_expires_after): create the task again"),
            )
        if not task.file_url:
            raise ArkError(
                msg("The task succeeded but Ark gave no file link"),
                code=ErrorCode.NO_FILE_URL,
                hint=msg("Query it again in a minute; report the task id to Ark support if it persists"),
            )
        return task

    def _poll_retrying(self, error: ArkError, seconds_left: float) -> None:
        """Ark does not answer (the poller rides it out): say what failed and until when it is asked again."""
        until = time.strftime("%H:%M:%S", time.localtime(time.time() + seconds_left))
        self._set(JobState(self.snapshot().phase, msg("{what} ({code}); retrying until {until}", what=error.what,
                                                      code=error.code, until=until), None))

    def _download_retrying(self, error: Exception, delay: float, attempt: int, attempts: int) -> None:
        """The file host failed an attempt that the download makes again: say what failed and how often it tries."""
        what = error.what if isinstance(error, ArkError) else verbatim(str(error))
        code = error.code if isinstance(error, ArkError) else type(error).__name__
        self._set(JobState(Phase.DOWNLOADING, msg("{what} ({code}); retrying in {seconds} s (attempt {n} of {total})",
                                                  what=what, code=code, seconds=f"{delay:.1f}", n=str(attempt),
                                                  total=str(attempts)), None))

    def _on_task(self, task: Task) -> None:
        if task.is_video:  # told apart on the first answer: no waiting, no download, nothing kept
            raise ArkError(
                msg("Task {task_id} is a video generation task, not a 3D one (model {model})", task_id=task.id,
                    model=task.model or "?"),
                code=ErrorCode.NOT_A_3D_TASK,
                hint=msg("This add-on imports 3D models; open video tasks in the Ark console"),
            )
        previous = self.task
        self.task = task
        if previous is None or previous.raw != task.raw:
            self.library.save_task(task.raw)
        if task.status is Status.QUEUED:
            phase, text = Phase.QUEUED, msg("Queued")
        elif task.status is Status.RUNNING:
            phase, text = Phase.RUNNING, msg("Generating")
        elif task.status is Status.UNKNOWN:
            phase, text = Phase.RUNNING, msg("Status '{status}'", status=task.status_text)
        else:
            return
        seconds = task.elapsed()
        if seconds is not None:  # the time the task has spent so far, when Ark says when it began
            text = msg("{state} · {elapsed}", state=text, elapsed=format_duration(seconds))
        self._set(JobState(phase, text, None))

    def _download(self, task: Task, zip_path: Path) -> None:
        check_url(task.file_url, msg("result link"))
        self._set(JobState(Phase.DOWNLOADING, msg("Downloading"), 0.0))

        def report(p: DownloadProgress) -> None:
            done, speed = format_bytes(p.done), format_bytes(p.speed_bps)
            if p.total and p.percent is not None:
                text = msg("Downloading {done} / {total} ({percent}%) · {speed}/s", done=done,
                           total=format_bytes(p.total), percent=f"{p.percent:.0f}", speed=speed)
            else:
                text = msg("Downloading {done} · {speed}/s", done=done, speed=speed)
            self._set(JobState(Phase.DOWNLOADING, text, p.percent / 100 if p.percent is not None else None))

        def queued() -> None:
            self._set(JobState(Phase.DOWNLOADING, msg("Waiting to download ({n} at a time)", n=str(self.slots.limit)),
                               0.0))

        with self.slots.hold(self.cancel_event, on_wait=queued):
            try:
                download(
                    task.file_url,
                    zip_path,
                    progress=report,
                    cancel=self.cancel_event,
                    verify=self.settings.verify,
                    stall_timeout=self.stall_timeout,
                    keep_partial=True,  # run() removes it on the user's cancel, keeps it for a resume
                    durable=False,  # _extract() fsyncs the zip: the disk writes it while the extraction runs
                    on_retry=self._download_retrying,
                )
            except LinkExpired as exc:
                lifetime = link_lifetime(task.model)
                if lifetime != LINK_LIFETIME_S:  # the download's hint tells Seed3D's 24 hours
                    exc.hint = msg("Ark deletes this model's results {lifetime} after the task finished; create the "
                                   "task again, or import it from the library if you downloaded it before",
                                   lifetime=duration(lifetime))
                raise

    def _extract(self, task: Task | None, zip_path: Path, *, from_library: bool) -> JobResult:
        files = self.library.files_dir(self.task_id)
        self._set(JobState(Phase.EXTRACTING, msg("Extracting"), 0.0))

        def report(done: int, total: int) -> None:
            self._set(JobState(Phase.EXTRACTING, msg("Extracting"), done / total if total else None))

        try:
            unpack(zip_path, files, name=task.file_name() if task is not None else "", cancel=self.cancel_event,
                   progress=report)
        except ArchiveError as exc:
            # A damaged download must not stick: the next try fetches it again.  A full disk
            # says nothing against the zip, whose link may be dead by the next try: keep it.
            if exc.code not in _KEEP_ZIP_CODES:
                zip_path.unlink(missing_ok=True)
            raise
        model = choose_model(find_models(files), self.variant, root=files)
        outside = outside_references(model.path, files)
        if outside:
            raise ArchiveError(
                msg("{file} refers to files outside its folder: {files}", file=model.path.name,
                    files=", ".join(outside[:3])),
                code=ErrorCode.UNSAFE_REFERENCE,
                hint=msg("The result looks tampered with: do not import it; report the task id to Ark support"),
            )
        _sync_file(zip_path)  # the result's one lasting copy is on disk before the marker says done
        self.library.mark_extracted(self.task_id, model.path)
        return JobResult(self.task_id, model, files, task, from_library=from_library)


def _sync_file(path: Path) -> None:
    """fsync a file written earlier (the downloaded zip; its writeback began as it arrived)."""
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fileformat_of(body: dict[str, object]) -> str:
    """``--fileformat x`` (or ``--ff x``) of a create request's text, for the journal."""
    content = body.get("content")
    for item in content if isinstance(content, list) else []:
        text = item.get("text") if isinstance(item, dict) else None
        words = text.split() if isinstance(text, str) else []
        for flag, value in zip(words, words[1:], strict=False):
            if flag in ("--fileformat", "--ff"):
                return _FORMAT_CODES.get(value, value)
    return ""


#: Hitem3D's format codes (``--fileformat 4``) back to the names the user chose.
_FORMAT_CODES = {code: name for name, code in find_model(HITEM3D).flag("--fileformat").wire.items()}


def _parse_saved(saved: dict | None) -> Task | None:
    try:
        return parse_task(saved) if saved else None
    except ValueError:
        return None


def _failure_hint(code: str) -> Message:
    if "Sensitive" in code:
        return msg("Ark's content check refused the input image: try another image")
    if code:
        return msg("Check the input and try again; quote the task id if you contact Ark support")
    return msg("Try creating the task again")
