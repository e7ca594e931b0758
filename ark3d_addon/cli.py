"""Command line for pipelines: ``status``, ``fetch``, ``list`` and ``create``, without Blender.

    python -m ark3d_addon status cgt-...            # the task as JSON
    python -m ark3d_addon fetch cgt-... --dest DIR  # download + extract, print the model path
    python -m ark3d_addon list [--offline] [--json] # the library and Ark's tasks: what is where
    python -m ark3d_addon create --model M --prompt T [--wait]  # an idea to a 3D task (--from FILE: many)

The global options ``--base-url``, ``--json`` and ``--quiet`` go before or after the command.
The key and base URL come from ``ARK_API_KEY`` and ``ARK_BASE_URL`` (as in the official
SDKs).  On failure the exit status is 1 and stderr carries the Ark error: code, message,
request id and what to do; ``--json`` prints it as JSON on stdout instead.  A bug (any other
exception) prints its traceback on stderr and exits with 70 (``EX_SOFTWARE``), so a pipeline
tells "Ark said no" from "the add-on broke".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from . import create_command
from .cli_job import EX_INTERRUPTED, progress_printer, run_job
from .core import assets
from .core.client import ArkClient
from .core.errors import ArkError, Cancelled
from .core.job import ImportJob, JobResult
from .core.library import Library, default_library_root
from .core.settings import Settings
from .core.task import Task
from .core.tasklist import TaskRow, merge_rows
from .core.worker import internal_error, print_bug

#: sysexits.h: an internal software error (a bug), as opposed to 1, a failure Ark or the user can fix.
EX_SOFTWARE = 70


def _global_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """The options every command takes, before or after its name (``status ID --base-url URL``).

    After the command their default is SUPPRESS, so one given before the command is kept when
    it is not repeated after it.
    """
    def default(value: object) -> object:
        return argparse.SUPPRESS if after_command else value

    parser.add_argument("--base-url", default=default(""), help="Ark API base URL (default: ARK_BASE_URL or Beijing)")
    parser.add_argument("--poll-interval", type=float, default=default(0.0), metavar="SECONDS",
                        help="how often a waiting command asks Ark about its task (default 5; at least 1)")
    parser.add_argument("--json", action="store_true", default=default(False),
                        help="print errors as JSON on stdout (list: the records as JSON)")
    parser.add_argument("--quiet", action="store_true", default=default(False),
                        help="no progress on stderr (warnings and errors are still printed)")


def _library_option(parser: argparse.ArgumentParser) -> None:
    """``--dest``: the library folder, for the commands that use one."""
    parser.add_argument("--dest", type=Path, default=None,
                        help="library folder (default: ARK3D_LIBRARY or the user data folder)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ark3d_addon", description=__doc__.split("\n\n")[0])
    _global_options(parser, after_command=False)
    after = argparse.ArgumentParser(add_help=False)
    _global_options(after, after_command=True)
    sub = parser.add_subparsers(dest="command", required=True)
    status = sub.add_parser("status", parents=[after], help="print a task as JSON")
    status.add_argument("task_id")
    fetch = sub.add_parser("fetch", parents=[after], help="download and extract a task's result, print the model path")
    fetch.add_argument("task_id")
    _library_option(fetch)
    fetch.add_argument("--variant", choices=("pbr", "rgb"), default=None,
                       help="which variant when the result has both (default pbr); one it lacks is warned about")
    listing = sub.add_parser("list", parents=[after],
                             help="the library and Ark's tasks: status, where the result, picture and asset file are")
    _library_option(listing)
    listing.add_argument("--offline", action="store_true", help="the library only: Ark is not asked")
    listing.add_argument("--max", type=int, default=500, help="most of Ark's tasks to list (default 500)")
    create_command.add_parser(sub, [after], _library_option)
    return parser


#: Ark's largest page.
_LIST_PAGE = 100


def _remote_tasks(settings: Settings, limit: int) -> tuple[list[Task], int]:
    """Ark's 3D tasks, newest first, up to ``limit``; and how many video tasks the same pages held
    (Seedance's, left out as the Tasks browser does)."""
    remote: list[Task] = []
    videos = 0
    client = ArkClient(settings)
    try:
        page = 1
        while len(remote) < limit:
            tasks, total = client.list_tasks(page_num=page, page_size=_LIST_PAGE)
            remote.extend(task for task in tasks if not task.is_video)
            videos += sum(1 for task in tasks if task.is_video)
            if not tasks or page * _LIST_PAGE >= total:
                break
            page += 1
    finally:
        client.close()
    return remote[:limit], videos


def _record(library: Library, row: TaskRow) -> dict[str, object]:
    """One task as ``list`` shows it: where it is, and the paths of its files."""
    folder = library.task_dir(row.task_id)
    model = library.extracted_model(row.task_id) if row.extracted else None
    picture = folder / assets.PREVIEW_FILE
    asset = folder / assets.ASSET_FILE
    given = assets.input_image(library, row.task_id)
    return {
        "task_id": row.task_id, "status": row.status, "model": row.model, "fileformat": row.fileformat,
        "on_ark": row.remote, "in_library": row.in_library, "extracted": row.extracted,
        "result": str(model) if model else None,
        "preview": str(picture) if picture.is_file() else None,
        "asset": str(asset) if asset.is_file() else None,
        "asset_state": assets.asset_state(library, row.task_id) if row.in_library else "none",
        "input": str(given) if given else None,
        "chain": row.chain.to_json() if row.chain else None,
    }


def _count(n: int, noun: str) -> str:
    """``1 task``, ``2 tasks``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _summary(records: list[dict[str, object]], library: Library, asked_ark: bool, videos: int) -> str:
    """The line under the table: how many tasks, where they are."""
    on_ark = f"{sum(1 for r in records if r['on_ark'])} on Ark" if asked_ark else "Ark not asked"
    extracted = sum(1 for r in records if r["extracted"])
    partial = sum(1 for r in records if r["in_library"] and not r["extracted"])
    with_asset = sum(1 for r in records if r["asset"])
    line = (f"{_count(len(records), 'task')}: {on_ark}; in the library ({library.root}): {extracted} extracted, "
            f"{partial} partial, {with_asset} with an asset file")
    return line + (f"; {_count(videos, 'video task')} on Ark left out" if videos else "")


def _print_table(records: list[dict[str, object]]) -> None:
    print(f"{'TASK ID':<26} {'STATUS':<10} {'FORMAT':<6} {'ARK':<3} {'LIBRARY':<9} {'ASSET':<7} PATH")
    for r in records:
        where = "extracted" if r["extracted"] else ("partial" if r["in_library"] else "-")
        print(f"{r['task_id']:<26} {r['status']:<10} {str(r['fileformat'] or '?').upper():<6} "
              f"{'yes' if r['on_ark'] else 'no':<3} {where:<9} {r['asset_state']:<7} {r['result'] or ''}")


def _list(settings: Settings, library: Library, offline: bool, limit: int, as_json: bool) -> int:
    """Ark's tasks (newest first, up to ``limit``), then the library's others; one line or JSON object each.

    With no API key the library is listed alone, as the Tasks browser does, and stderr says so.
    """
    if not offline and not settings.api_key:
        _warn("Ark was not asked: no API key is set (ARK_API_KEY); listing the library only")
        offline = True
    remote, videos = _remote_tasks(settings, limit) if not offline else ([], 0)
    records = [_record(library, row) for row in merge_rows(remote, library.entries(), last_page=True)]
    if as_json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        _print_table(records)
        print(_summary(records, library, not offline, videos), file=sys.stderr)
    return 0


def _warn(text: str) -> None:
    """A notice the user should read even with ``--quiet``: something differs from what was asked."""
    print(f"warning: {text}", file=sys.stderr, flush=True)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    """``status ID``: Ark's answer for the task, as JSON on stdout."""
    client = ArkClient(settings)
    try:
        task = client.get_task(args.task_id)
    finally:
        client.close()
    print(json.dumps(task.raw, ensure_ascii=False, indent=2))
    return 0


def _library(args: argparse.Namespace, settings: Settings) -> Library:
    """The library folder: ``--dest``, else ARK3D_LIBRARY, else the user data folder."""
    return Library(args.dest or settings.library_dir or default_library_root())


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    """``fetch ID``: wait, download and extract into the library; print the model path."""
    job = ImportJob(args.task_id, settings, _library(args, settings), variant=args.variant,
                    import_when_ready=False, on_state=progress_printer(not args.quiet))
    result = run_job(job)
    _check_variant(args.variant, result)
    print(result.model.path)
    return 0


def _check_variant(asked: str | None, result: JobResult) -> None:
    """A ``--variant`` the result does not have: the model used instead is named on stderr
    (also for a result already in the library); the fetch itself succeeds."""
    if asked and result.model.variant != asked:
        used = result.model.path.relative_to(result.files_dir).as_posix()
        kind = f"the {result.model.variant} variant" if result.model.variant else "its only model"
        _warn(f"the result of {result.task_id} has no {asked} variant; using {kind}, {used}")


def _listing(args: argparse.Namespace, settings: Settings) -> int:
    """``list``: the library and Ark's tasks."""
    return _list(settings, _library(args, settings), args.offline, args.max, args.json)


def _create(args: argparse.Namespace, settings: Settings) -> int:
    """``create``: a prompt or pictures to a 3D task (``--from FILE``: a row file), see :mod:`.create_command`."""
    return create_command.run(args, settings, _library(args, settings), progress_printer(not args.quiet))


#: Each command's handler: it gets the parsed arguments and the resolved settings, returns the exit status.
_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "status": _status,
    "fetch": _fetch,
    "list": _listing,
    "create": _create,
}


#: 128 + SIGPIPE: what a shell reports for a command whose reader stopped reading (``| head``).
EX_READER_GONE = 141


def _reader_gone() -> int:
    """``python -m ark3d_addon list | head``: the reader has what it wanted, so this is no bug.

    What is still buffered goes to the null device, or Python's last flush at exit would raise again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EX_READER_GONE


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings: Settings | None = None
    try:
        # A --base-url given on this command line wins over ARK_BASE_URL (its help says so).
        environ = {k: v for k, v in os.environ.items() if not (args.base_url and k == "ARK_BASE_URL")}
        settings = Settings.resolve(base_url=args.base_url, poll_interval=args.poll_interval, environ=environ)
        status = _COMMANDS[args.command](args, settings)
        sys.stdout.flush()  # a reader that went away shows here, in the handler below, not at exit
        return status
    except BrokenPipeError:
        return _reader_gone()
    except Cancelled:
        return EX_INTERRUPTED  # run_job has said what was kept
    except KeyboardInterrupt:
        print("Interrupted: nothing was changed.", file=sys.stderr)
        return EX_INTERRUPTED
    except ArkError as exc:
        if args.json:
            print(json.dumps(exc.as_dict(), ensure_ascii=False))
        else:
            print(f"error: {exc.user_message()}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: its traceback, then the short message the UI would show
        secret = settings.api_key if settings is not None else ""
        print_bug(exc, secret)
        print(f"error: {internal_error(exc, secret).user_message()}", file=sys.stderr)
        return EX_SOFTWARE
