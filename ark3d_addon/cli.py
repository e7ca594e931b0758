"""Command line for pipelines: ``status`` and ``fetch``, without Blender.

    python -m ark3d_addon status cgt-...            # the task as JSON
    python -m ark3d_addon fetch cgt-... --dest DIR  # download + extract, print the model path

The key and base URL come from ``ARK_API_KEY`` and ``ARK_BASE_URL`` (as in the official
SDKs).  On failure the exit status is non-zero and stderr carries the Ark error: code,
message, request id and what to do; ``--json`` prints it as JSON on stdout instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from .core.client import ArkClient
from .core.errors import ArkError, Cancelled
from .core.job import ImportJob, JobState
from .core.library import Library, default_library_root
from .core.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ark3d_addon", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="", help="Ark API base URL (default: ARK_BASE_URL or Beijing)")
    parser.add_argument("--json", action="store_true", help="print errors as JSON on stdout")
    sub = parser.add_subparsers(dest="command", required=True)
    status = sub.add_parser("status", help="print a task as JSON")
    status.add_argument("task_id")
    fetch = sub.add_parser("fetch", help="download and extract a task's result, print the model path")
    fetch.add_argument("task_id")
    fetch.add_argument("--dest", type=Path, default=None,
                       help="library folder (default: ARK3D_LIBRARY or the user data folder)")
    fetch.add_argument("--variant", choices=("pbr", "rgb"), default="pbr", help="which variant when the zip has both")
    fetch.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def _progress_printer(enabled: bool) -> Callable[[JobState], None]:
    """Print each new state line once: a pipeline log, not a redrawn bar."""
    last = [""]

    def show(state: JobState) -> None:
        text = state.text.render()
        if enabled and text != last[0]:
            last[0] = text
            print(text, file=sys.stderr, flush=True)

    return show


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.resolve(base_url=args.base_url)
        if args.command == "status":
            client = ArkClient(settings)
            try:
                task = client.get_task(args.task_id)
            finally:
                client.close()
            print(json.dumps(task.raw, ensure_ascii=False, indent=2))
            return 0
        library = Library(args.dest or settings.library_dir or default_library_root())
        job = ImportJob(args.task_id, settings, library, variant=args.variant,
                        on_state=_progress_printer(not args.quiet))
        result = job.run()
        print(result.model.path)
        return 0
    except Cancelled:
        return 130
    except KeyboardInterrupt:
        return 130
    except ArkError as exc:
        if args.json:
            print(json.dumps(exc.as_dict(), ensure_ascii=False))
        else:
            print(f"error: {exc.user_message()}", file=sys.stderr)
        return 1
