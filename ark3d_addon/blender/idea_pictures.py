"""The Generate section's pictures: an idea made into pictures by Seedream, looked at before the 3D task.

Seed3D and Hitem3D need a picture; the user starts from a prompt.  Each step is paid, so each
is its own call: Seedream makes the pictures (:func:`pictures_work`), the panel shows them as
thumbnails, and only the picture (or the set of views) the user picks goes to the 3D model
(:func:`create_work`), whose task is then imported as any other.  Both run in a worker through
the runner (network there, ``bpy`` here); the core decides everything else
(:mod:`..core.idea`, :mod:`..core.rounds`).

What the section shows lives in the add-on's state (:class:`PictureRound`): the idea and plan of
the pictures shown, the pictures (one per view for a set), their previews (``bpy.utils.previews``,
released by :func:`unregister`), and the folder they are saved in until a task keeps them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy
import bpy.utils.previews

from ..core.errors import ArkError, ConfigError, ErrorCode
from ..core.messages import msg, plural
from ..core.prompting import VIEWS
from . import env, i18n, runner, state
from .finish import Report
from .preferences import library, read_settings
from .progress import redraw_sidebars

if TYPE_CHECKING:  # the core's idea flow is imported on first use: enabling the add-on needs none of it
    from ..core.catalog import ModelSpec
    from ..core.client import ArkClient
    from ..core.idea import Created, Idea, Plan
    from ..core.images import GeneratedImage, ImagesResult
    from ..core.worker import Worker

__all__ = ["PictureRound", "create_plan", "create_work", "icon", "idea_from_panel", "image_model_items",
           "panel_params", "pictures", "pictures_work", "plan_from_panel", "register", "text_work", "unregister"]


class PictureRound:
    """The pictures the Generate section shows: what they were made from, and what is running.

    A plain class, as :mod:`.state`'s parts are: made when the add-on is enabled.
    """

    def __init__(self) -> None:
        self.previews: Any = None  # an ImagePreviewCollection while enabled
        self.idea: Idea | None = None  # the idea of the pictures shown (a reference round's, a redo's parent)
        self.plan: Plan | None = None  # its plan: what the 3D task of these pictures sends
        self.shown: list[GeneratedImage] = []  # in the order of plan.views for a set
        self.folder: Path | None = None  # where pictures wait until a task keeps them (removed on unregister)
        self.made = 0  # pictures saved so far: each gets its own name in the folder
        self.busy = ""  # "pictures" or "create" while a worker runs
        self.status = state.StatusLine()
        self.task_id = ""  # the last 3D task made from these pictures
        #: The image model menu's items (Blender keeps no copy of a dynamic menu's strings).
        self.model_items: list[tuple[str, str, str]] = []
        self.newest = ""  # the newest Seedream Ark lists, once asked ("": not yet)


def pictures() -> PictureRound:
    return state.get().part(PictureRound)


def icon(picture: GeneratedImage) -> int:
    """The picture's preview (loaded on first draw; Blender reads the file itself)."""
    previews = pictures().previews
    if previews is None:
        return 0
    key = str(picture.path)
    preview = previews.get(key) or previews.load(key, key, "IMAGE")
    return int(preview.icon_id)


#: The image model menu's first item (its default): the newest Seedream Ark lists, asked when pictures are made.
NEWEST = "NEWEST"


def image_model_items(_self: Any, _context: Any) -> list[tuple[str, str, str]]:
    """The newest Seedream Ark lists (the default), then each one this add-on knows, the newest first."""
    items = pictures().model_items
    if not items:
        from ..core.images import IMAGE_MODELS

        items.append((NEWEST, "Newest Listed", "The newest Seedream model Ark lists for your account"))
        items.extend((model.id, model.name, f"{model.id} · {model.cost(1)}") for model in IMAGE_MODELS)
    return items


def panel_params(fields: Any, spec: ModelSpec) -> dict[str, str]:
    """The 3D model's parameters the Generate section names: typed ones, the format, the detail level."""
    params = spec.parse(fields.parameters)
    if fields.fileformat:
        params[spec.format_flag] = fields.fileformat
    if spec.level_flag and fields.subdivisionlevel != "DEFAULT":
        params[spec.level_flag] = fields.subdivisionlevel
    return params


def panel_views(fields: Any) -> tuple[str, ...]:
    """The views of a set the section asks for, in Hitem3D's order; () for fewer than two."""
    views = tuple(view for view in VIEWS if view.upper() in fields.views)
    return views if len(views) > 1 else ()


def panel_helper_text(fields: Any) -> str:
    """The helper's words as the user edited them; "" while they are the built-in ones (which then
    speak the prompt's language: a Chinese prompt gets the Chinese helper)."""
    from ..core.prompting import HELPER_TEXT

    edited = fields.helper_text.strip()
    return "" if edited == HELPER_TEXT else edited


def idea_from_panel(fields: Any, spec: ModelSpec) -> Idea:
    """The Generate section's prompt, helper, image model and views as an :class:`Idea` (pictures first)."""
    from ..core.idea import Idea

    return Idea(model=spec.id, prompt=fields.prompt.strip(), params=panel_params(fields, spec),
                image_model="" if fields.image_model == NEWEST else fields.image_model, helper=fields.use_helper,
                helper_text=panel_helper_text(fields),
                views=panel_views(fields), through_pictures=True, endpoint=fields.endpoint.strip())


def plan_from_panel(fields: Any, spec: ModelSpec) -> Plan:
    """What Make Pictures would send now (its price is shown before it): the newest listed Seedream
    once Ark was asked, else the newest this add-on knows."""
    from ..core.idea import plan_idea
    from ..core.images import DEFAULT_IMAGE_MODEL

    return plan_idea(idea_from_panel(fields, spec), image_model=pictures().newest or DEFAULT_IMAGE_MODEL)


def _folder(round_: PictureRound) -> Path:
    import tempfile  # on first use: not when the add-on is enabled

    if round_.folder is None or not round_.folder.is_dir():
        round_.folder = Path(tempfile.mkdtemp(prefix="ark3d-pictures-"))
    return round_.folder


def _renamed(round_: PictureRound, made: list[GeneratedImage]) -> list[GeneratedImage]:
    """Each picture under a name of its own (a task's ``images/`` keeps them by name)."""
    import shutil

    folder = _folder(round_)
    named = []
    for picture in made:
        round_.made += 1
        target = folder / f"picture-{round_.made}{picture.path.suffix or '.png'}"
        shutil.move(str(picture.path), target)
        named.append(replace(picture, path=target))
    return named


def pictures_work(context: bpy.types.Context, idea: Idea, redo: int = -1) -> runner.Work:
    """A worker that makes the idea's pictures; ``redo``: the index of the view they replace."""
    import tempfile

    from ..core.client import ArkClient
    from ..core.idea import make_pictures, plan_idea
    from ..core.images import DEFAULT_IMAGE_MODEL
    from ..core.worker import Worker

    round_ = pictures()
    ask = not idea.image_model and not round_.newest  # the newest listed, not asked yet: Ark is asked first
    plan = plan_idea(idea, image_model=round_.newest or DEFAULT_IMAGE_MODEL)  # every check before the paid call
    if not plan.makes_pictures:
        raise ConfigError(msg("{model} is sent the prompt itself: no picture is made", model=plan.spec.name),
                          code=ErrorCode.INVALID_PARAMETER, hint=msg("Use Generate"))
    settings = read_settings(context)
    env.require_network(settings)
    dest = Path(tempfile.mkdtemp(prefix="round-", dir=_folder(round_)))

    def work(cancel: Any) -> tuple[Plan, ImagesResult]:
        client = ArkClient(settings, cancel=cancel)
        try:
            used = _newest_listed(client, plan) if ask else plan
            return used, make_pictures(client, used, dest)
        finally:
            client.close()

    round_.busy = "pictures"
    assert plan.image_request is not None  # (makes_pictures)
    round_.status.say(msg("Seedream is making the pictures ({price})", price=plan.image_request.cost()), "INFO")
    call: Worker[tuple[Plan, ImagesResult]] = Worker(work, name="ark3d-pictures", secret=settings.api_key)
    return runner.Work(call=call, on_call_done=lambda ctx, done: _pictures_made(ctx, done, idea, redo))


def _newest_listed(client: ArkClient, plan: Plan) -> Plan:
    """The plan asking the newest Seedream Ark lists (in the worker: ``GET /models``), checked for it again."""
    from ..core.images import pick_image_model

    request = plan.image_request
    try:
        picked = pick_image_model(client.list_models())
    except ArkError:  # the list unread: the newest this add-on knows (the paid call says what is wrong)
        return plan
    if request is None or picked == request.model:
        return plan
    newer = replace(request, model=picked)
    newer.check()
    return replace(plan, image_request=newer)


def _pictures_made(context: bpy.types.Context, call: Worker[Any], idea: Idea, redo: int) -> list[Report]:
    """Show the new pictures (or the redone view in its place); say what happened."""
    round_ = pictures()
    round_.busy = ""
    redraw_sidebars(context.window_manager)
    plan, result = call.result if call.result is not None else (None, None)
    if plan is not None and plan.image_request is not None and not idea.image_model:
        round_.newest = plan.image_request.model
    if plan is None or result is None or not result.images:
        error = call.error or ArkError(msg("Seedream made no picture"), code=ErrorCode.UNKNOWN,
                                       hint=msg("Change the prompt and make the pictures again"))
        round_.status.say(error, "ERROR")
        return [("ERROR", i18n.report(error))]
    made = _renamed(round_, result.images)
    if redo >= 0 and round_.plan is not None and redo < len(round_.shown):
        round_.shown[redo] = made[0]
        said = msg("Made the {view} view again", view=round_.plan.views[redo] if round_.plan.views else "")
    else:
        round_.idea, round_.plan, round_.shown = idea, plan, made
        said = plural(len(made), "Seedream made {n} picture", "Seedream made {n} pictures")
    round_.status.say(said, "INFO")
    return [("INFO", i18n.report(said))]


def create_work(context: bpy.types.Context, plan: Plan, chosen: list[GeneratedImage],
                options: Any) -> runner.Work:
    """A worker that creates the 3D task from the chosen pictures and keeps the chain; then its import."""
    from ..core.client import ArkClient
    from ..core.idea import create_from_plan
    from ..core.worker import Worker

    settings = read_settings(context)
    env.require_network(settings)
    where = library(context)
    round_ = pictures()

    def work(cancel: Any) -> Created:
        client = ArkClient(settings, cancel=cancel)
        try:
            return create_from_plan(client, plan, chosen, where)
        finally:
            client.close()

    round_.busy = "create"
    round_.status.say(msg("Creating the 3D task ({price})", price=plan.spec.cost(plan.params)), "INFO")
    call: Worker[Created] = Worker(work, name="ark3d-create-from-pictures", secret=settings.api_key)
    return runner.Work(call=call, on_call_done=lambda ctx, done: _created(ctx, done, options))


def text_work(context: bpy.types.Context, fields: Any, spec: ModelSpec, options: Any) -> runner.Work:
    """A model that reads text (Hyper3D) given the prompt itself: the task, its chain kept, then its import."""
    from ..core.idea import Idea, plan_idea

    plan = plan_idea(Idea(model=spec.id, prompt=fields.prompt.strip(), params=panel_params(fields, spec),
                          endpoint=fields.endpoint.strip()))
    return create_work(context, plan, [], options)


def _created(context: bpy.types.Context, call: Worker[Any], options: Any) -> list[Report]:
    """The task exists: its import runs as any other (polled, downloaded, imported, journaled)."""
    from ..core.job import ImportJob
    from ..core.phases import JobKind

    round_ = pictures()
    round_.busy = ""
    redraw_sidebars(context.window_manager)
    created: Created | None = call.result
    if created is None:
        error = call.error or ArkError(msg("The request failed"), code=ErrorCode.UNKNOWN)
        round_.status.say(error, "ERROR")
        return [("ERROR", i18n.report(error))]
    round_.task_id = created.task_id
    job = ImportJob(created.task_id, read_settings(context), library(context), journal=True)
    job.kind = JobKind.GENERATE  # made here from pictures: shown and cancelled as a generate
    runner.submit(runner.Work([job], options))
    runner.start(context)
    said = msg("Created {task_id}", task_id=created.task_id)
    round_.status.say(said, "INFO")
    return [("INFO", i18n.report(said))]


def _shown(index: int) -> GeneratedImage:
    round_ = pictures()
    if round_.plan is None or round_.idea is None or not 0 <= index < len(round_.shown):
        raise ConfigError(msg("There is no picture {n} to use", n=str(index + 1)), code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Make the pictures again"))
    return round_.shown[index]


def again_work(context: bpy.types.Context, fields: Any, spec: ModelSpec) -> runner.Work:
    """The pictures shown made again with a new seed (the section's idea when none are shown)."""
    from ..core.rounds import again

    idea = pictures().idea
    return pictures_work(context, again(idea if idea is not None else idea_from_panel(fields, spec)))


def reference_work(context: bpy.types.Context, index: int, fields: Any, spec: ModelSpec) -> runner.Work:
    """A new round of the section's idea as it is now (the prompt as edited, the views asked: a set
    from one picture) with picture ``index`` as Seedream's image input."""
    from ..core.rounds import from_reference

    picture = _shown(index)
    return pictures_work(context, from_reference(idea_from_panel(fields, spec), picture.path))


def redo_work(context: bpy.types.Context, index: int) -> runner.Work:
    """View ``index`` of the set made again, the other views as references."""
    from ..core.rounds import redo_view

    _shown(index)
    round_ = pictures()
    assert round_.idea is not None and round_.plan is not None
    idea = redo_view(round_.idea, round_.plan.views, index, [p.path for p in round_.shown])
    return pictures_work(context, idea, redo=index)


def drop_view(index: int) -> None:
    """View ``index`` leaves the set: the rest is sent, with its own view bits."""
    from ..core.rounds import keep_views

    _shown(index)
    round_ = pictures()
    assert round_.plan is not None
    views = [view for i, view in enumerate(round_.plan.views) if i != index]
    round_.plan = keep_views(round_.plan, views)
    del round_.shown[index]
    round_.status.say(msg("Dropped a view: {n} left", n=str(len(views))), "INFO")


def create_plan(fields: Any, spec: ModelSpec) -> Plan | None:
    """The shown pictures' plan, sent to the 3D model the section names now (its format and parameters
    too): the pictures were made for the idea, the 3D model is chosen when the task is created.
    None with no pictures shown; :class:`ConfigError` when that model cannot take them."""
    from ..core.idea import plan_idea

    made = pictures().plan
    if made is None or made.image_request is None:
        return None
    idea = replace(made.idea, model=spec.id, params=panel_params(fields, spec), endpoint=fields.endpoint.strip(),
                   views=made.views)
    target = plan_idea(idea, image_model=made.image_request.model)
    return replace(target, image_request=made.image_request, added_prompt=made.added_prompt, views=made.views)


def create_chosen_work(context: bpy.types.Context, index: int, options: Any, fields: Any,
                       spec: ModelSpec) -> runner.Work:
    """The 3D task from picture ``index``, or from the whole set (``index`` -1), with the section's model."""
    round_ = pictures()
    chosen = list(round_.shown) if index < 0 else [_shown(index)]
    plan = create_plan(fields, spec)
    if plan is None or not chosen:
        raise ConfigError(msg("There is no picture {n} to use", n=str(index + 1)), code=ErrorCode.INVALID_PARAMETER,
                          hint=msg("Make the pictures again"))
    return create_work(context, plan, chosen, options)


def register() -> None:
    pictures().previews = bpy.utils.previews.new()


def unregister() -> None:
    """Blender's copies of the pictures are released and their folder removed (the state goes next)."""
    import shutil

    round_ = pictures()
    if round_.previews is not None:
        bpy.utils.previews.remove(round_.previews)
    round_.previews = None
    if round_.folder is not None:
        shutil.rmtree(round_.folder, ignore_errors=True)
    round_.folder = None
