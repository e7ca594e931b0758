"""The command line's ``create``: an idea (a prompt, pictures) to a 3D task, alone or a row file at a time.

    python -m ark3d_addon create --model MODEL [--prompt TEXT] [--image PATH_OR_URL ...]
        [--image-model MODEL] [--param NAME=VALUE ...] [--views front,back] [--wait] [--dest DIR] [--json]
    python -m ark3d_addon create --from FILE [--json]

The same chain as the panel (:mod:`.core.idea`): a model that takes no text gets a picture
made first.  Everything is checked before the first paid call; each price is said on stderr
before it is spent.  ``--wait`` then fetches the result into the library as ``fetch`` does.
A row file runs as :mod:`.core.batch` says: checked whole first, journaled beside the file.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .cli_job import run_job
from .core import batch
from .core.catalog import MODELS
from .core.client import ArkClient
from .core.errors import ConfigError, ErrorCode
from .core.idea import Idea, Plan, plan_idea, prefer_listed, run_idea
from .core.images import DEFAULT_IMAGE_MODEL, newest_image_model
from .core.job import ImportJob, JobState
from .core.library import Library, held
from .core.messages import msg
from .core.settings import Settings

__all__ = ["add_parser", "run"]


def add_parser(sub: Any, parents: list[argparse.ArgumentParser],
               library_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """The ``create`` subcommand's options."""
    create = sub.add_parser("create", parents=parents,
                            help="make a 3D task from a prompt or pictures (pictures are made first when needed)")
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help=f"the 3D model: {', '.join(MODELS)}")
    source.add_argument("--from", dest="rows", type=Path, metavar="FILE",
                        help="a row file: one JSON object a line (prompt, image, model, params)")
    create.add_argument("--prompt", default="", help="what to make")
    create.add_argument("--image", action="append", default=[], metavar="PATH_OR_URL",
                        help="a picture of your own (repeat for several): sent as it is, or with --prompt for a "
                             "model that reads no text (or --views), the reference the pictures are made from")
    create.add_argument("--image-model", default="", help="the Seedream model (default: the newest Ark lists)")
    create.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter of the 3D model, e.g. subdivisionlevel=high (repeat for several)")
    create.add_argument("--views", default="", help="a multi-view set to make: some of front,back,left,right")
    create.add_argument("--count", type=int, default=1, help="pictures to make when no views are named")
    create.add_argument("--size", default="2048x2048", help="the pictures' size: 2K, 4K or WIDTHxHEIGHT")
    create.add_argument("--seed", type=int, default=None, help="Seedream's seed")
    create.add_argument("--no-helper", action="store_true",
                        help="send the prompt as written (no 'one whole object, centred, plain background')")
    create.add_argument("--through-pictures", action="store_true",
                        help="Hyper3D: make pictures from the prompt first instead of sending the text")
    create.add_argument("--endpoint", default="", metavar="EP_ID",
                        help="call the 3D model through this endpoint id (ep-...): for an account whose "
                             "model ids are turned off (ModelIDAccessDisabled)")
    create.add_argument("--wait", action="store_true", help="wait for the result, fetch it, print the model path")
    library_option(create)


def _params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(msg("Write a parameter as NAME=VALUE, not '{text}'", text=pair[:60]),
                              code=ErrorCode.INVALID_PARAMETER, hint=msg("For example: subdivisionlevel=high"))
        params[name.strip()] = value.strip()
    return params


def _idea(args: argparse.Namespace) -> Idea:
    views = tuple(view.strip() for view in args.views.split(",") if view.strip())
    return Idea(args.model, args.prompt, tuple(args.image), _params(args.param), image_model=args.image_model,
                helper=not args.no_helper, views=views, count=args.count, size=args.size, seed=args.seed,
                through_pictures=args.through_pictures, endpoint=args.endpoint)


def _image_model(settings: Settings) -> str:
    """The newest Seedream Ark lists, asked once for the whole row file."""
    client = ArkClient(settings)
    try:
        return newest_image_model(client)
    finally:
        client.close()


def _say_price(plan: Plan, quiet: bool) -> None:
    if quiet:
        return
    pictures, task = plan.price_cny()
    if plan.image_request is not None:
        print(f"Pictures: {plan.image_request.model}, up to {plan.image_request.count}, about {pictures:.2f} CNY; "
              f"prompt helper added: {plan.added_prompt or '(off)'}", file=sys.stderr)
    print(f"3D task: {plan.spec.name}, about {task:.2f} CNY", file=sys.stderr)


def _single(args: argparse.Namespace, settings: Settings, library: Library,
            progress: Callable[[JobState], None]) -> int:
    plan = plan_idea(_idea(args))
    client = ArkClient(settings)
    try:
        plan = prefer_listed(client, plan)
        _say_price(plan, args.quiet)
        with tempfile.TemporaryDirectory(prefix="ark3d-pictures-") as staging:
            created = run_idea(client, plan, library, Path(staging))
    finally:
        client.close()
    record: dict[str, Any] = {"task_id": created.task_id, "model": plan.spec.id,
                              "images": created.used, "pictures": [str(p) for p in created.pictures],
                              "chain": str(library.task_dir(created.task_id) / "chain.json")}
    if not args.json:
        print(created.task_id, flush=True)
    if args.wait:
        # As fetch does it: Ctrl-C says what was kept and how to go on.
        result = run_job(ImportJob(created.task_id, settings, library, import_when_ready=False, on_state=progress))
        record["model_path"] = str(result.model.path)
        if not args.json:
            print(result.model.path)
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
    return 0


def _rows(args: argparse.Namespace, settings: Settings, library: Library) -> int:
    """``--from FILE``: every row read and checked, then the file held (``FILE.journal.lock``) while it runs."""
    rows_file: Path = args.rows
    base = rows_file.resolve().parent
    rows = [replace(row, idea=replace(row.idea, images=tuple(_beside(base, s) for s in row.idea.images)))
            for row in batch.read_rows(rows_file)]
    plans = batch.plan_rows(rows, DEFAULT_IMAGE_MODEL)
    with held(batch.journal_path(rows_file).with_suffix(".lock")):  # one run of a file at a time
        return _run_rows(args, settings, library, rows, plans, batch.Journal(batch.journal_path(rows_file)))


def _run_rows(args: argparse.Namespace, settings: Settings, library: Library, rows: list[batch.Row],
              plans: list[Plan], journal: batch.Journal) -> int:
    """The rows created side by side, one JSON line each as it ends; 1 if any failed."""
    if any(plan.image_request is not None and not plan.idea.image_model and row.key not in journal.tasks
           for row, plan in zip(rows, plans, strict=True)):
        plans = batch.with_image_model(plans, _image_model(settings))
    lock = threading.Lock()

    def report(outcome: dict[str, Any]) -> None:
        with lock:
            print(json.dumps(outcome, ensure_ascii=False), flush=True)

    failed = batch.run_rows(rows, plans, journal, settings=settings, library=library, report=report)
    if failed and not args.quiet:
        print(f"{failed} of {len(rows)} rows failed", file=sys.stderr)
    return 1 if failed else 0


def _beside(base: Path, source: str) -> str:
    """A row's picture file is named from the row file's folder (else from the current one); links stay."""
    if source.lower().startswith(("https://", "http://")) or Path(source).is_absolute():
        return source
    beside = base / source
    return str(beside) if beside.exists() or not Path(source).exists() else source


def run(args: argparse.Namespace, settings: Settings, library: Library, progress: Callable[[JobState], None]) -> int:
    """``create``: one idea, or ``--from FILE`` a row file; the exit status."""
    if args.rows is not None:
        return _rows(args, settings, library)
    return _single(args, settings, library, progress)
