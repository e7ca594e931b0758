"""The input image of a generate: a file, an image already in Blender, or the active camera's view.

Runs on the main thread (it calls ``bpy``): an image datablock that is not a plain file on disk
(the Render Result, a generated, packed or edited image) is saved to a temporary PNG first, and
the camera's view is rendered to one.  The core then reads, checks and encodes the file
(:func:`~..core.image_input.image_data_url`) exactly as it does a file the user picked.
"""

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bpy

from ..core.errors import ArkError, Cancelled, ConfigError, ErrorCode
from ..core.messages import msg, verbatim
from ..core.worker import Worker

#: Formats Ark takes, by extension: a file in one of them is sent as it is, never re-encoded.
_SENDABLE = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
#: The camera's view is rendered at most this large (longest side): enough for Seed3D, quick to render.
CAMERA_MAX_SIDE = 1024
#: Cycles samples for the camera render (the scene's own count when lower), with the denoiser and
#: without it: a picture meant as a model's input needs its shape and colours, not a clean image.
CAMERA_SAMPLES_DENOISED = 8
CAMERA_SAMPLES_NOISY = 16
#: EEVEE's samples for the camera render where EEVEE draws on a GPU (in a window).
CAMERA_EEVEE_SAMPLES = 16
_EEVEE = ("BLENDER_EEVEE", "BLENDER_EEVEE_NEXT")

_RENDER_HINT = msg("Render it yourself (F12) and pick the Render Result")


def temp_png(prefix: str) -> Path:
    """A fresh path in Blender's session temp folder (removed when Blender quits)."""
    folder = Path(bpy.app.tempdir or tempfile.gettempdir())
    return folder / f"ark3d-{prefix}-{secrets.token_hex(4)}.png"


@contextlib.contextmanager
def _overridden(target: Any, **values: Any) -> Iterator[None]:
    """Set attributes for the ``with`` block, then put every one back (also on error)."""
    saved: list[tuple[str, Any]] = []
    try:
        for name, value in values.items():
            if hasattr(target, name):
                saved.append((name, getattr(target, name)))
                setattr(target, name, value)
        yield
    finally:
        for name, value in reversed(saved):
            with contextlib.suppress(AttributeError, TypeError, ValueError):
                setattr(target, name, value)


@contextlib.contextmanager
def png_output(scene: bpy.types.Scene, compression: int = 15) -> Iterator[None]:
    """The scene's output set to an 8-bit RGBA PNG for the block, then put back (Blender 5.0 adds
    media_type).  The camera render and the library's pictures (``asset_maker.py``) both use it."""
    settings = scene.render.image_settings
    with contextlib.ExitStack() as stack:
        if hasattr(settings, "media_type"):
            stack.enter_context(_overridden(settings, media_type="IMAGE"))
        stack.enter_context(_overridden(settings, file_format="PNG"))
        stack.enter_context(_overridden(settings, color_mode="RGBA", color_depth="8", compression=compression))
        yield


def image_file(image: bpy.types.Image, scene: bpy.types.Scene) -> tuple[Path, bool]:
    """A file holding ``image``: ``(path, is_temporary)``.

    An unmodified image loaded from a jpg/png/webp/bmp file is used as it is; anything else
    (the Render Result, a compositor viewer, a generated, packed or edited image) is saved
    to a temporary PNG as Blender shows it.
    """
    if image.type == "IMAGE" and image.source == "FILE" and image.packed_file is None and not image.is_dirty:
        path = Path(bpy.path.abspath(image.filepath, library=image.library)) if image.filepath else None
        if path is not None and path.suffix.lower() in _SENDABLE and path.is_file():
            return path, False
    out = temp_png("image")
    try:
        with png_output(scene):
            image.save_render(filepath=str(out), scene=scene)
    except RuntimeError as exc:
        out.unlink(missing_ok=True)
        what = (msg("There is no render yet") if image.type == "RENDER_RESULT"
                else msg("The image '{name}' has no pixels", name=image.name))
        raise ConfigError(
            msg("{what}: it cannot be sent ({reason})", what=what,
                reason=str(exc).strip().splitlines()[-1] if str(exc).strip() else "empty"),
            code=ErrorCode.IMAGE_UNREADABLE,
            hint=msg("Render first (F12), or pick an image file"),
        ) from None
    if not out.is_file():
        raise ConfigError(msg("Blender did not save the image '{name}'", name=image.name),
                          code=ErrorCode.IMAGE_UNREADABLE, hint=msg("Pick an image file instead"))
    return out, True


def editor_image(context: bpy.types.Context) -> bpy.types.Image | None:
    """The image shown in the first Image Editor of the window, if any."""
    screen = context.screen
    for area in screen.areas if screen is not None else []:
        if area.type == "IMAGE_EDITOR":
            image = getattr(area.spaces.active, "image", None)
            if image is not None:
                return image
    return None


def has_denoiser() -> bool:
    """Cycles can denoise: OpenImageDenoise is built in.  Debian's Blender lacks it, and a scene
    with the denoiser on then fails outright ("Build without OpenImageDenoiser")."""
    try:
        import _cycles  # type: ignore[import-not-found]  # Blender's own module, where Cycles is built
    except ImportError:
        return False
    return bool(getattr(_cycles, "with_openimagedenoise", False))


def _camera_settings(scene: bpy.types.Scene, out: Path) -> contextlib.ExitStack:
    """The scene set up for the camera render (kept until the stack is closed, then put back):
    a PNG at ``out``, at most :data:`CAMERA_MAX_SIDE` pixels, and the engine of :func:`_quick_engine`."""
    if scene.camera is None:
        raise ConfigError(msg("The scene has no active camera"), code=ErrorCode.NO_CAMERA,
                          hint=msg("Add a camera and make it the active one (Ctrl+Numpad 0), or pick an image"))
    render = scene.render
    longest = max(render.resolution_x, render.resolution_y) * render.resolution_percentage / 100
    percentage = render.resolution_percentage
    if longest > CAMERA_MAX_SIDE:
        percentage = max(1, int(render.resolution_percentage * CAMERA_MAX_SIDE / longest))
    stack = contextlib.ExitStack()
    stack.enter_context(png_output(scene))
    stack.enter_context(_overridden(render, filepath=str(out), resolution_percentage=percentage,
                                    use_file_extension=True))
    _quick_engine(scene, stack)
    return stack


def _quick_engine(scene: bpy.types.Scene, stack: contextlib.ExitStack) -> None:
    """Few samples, so the input picture takes seconds, not minutes: Cycles at
    :data:`CAMERA_SAMPLES_DENOISED` with OpenImageDenoise on the colour alone, at its fast quality
    (:data:`CAMERA_SAMPLES_NOISY` where the build has no denoiser: Debian's fails outright with
    it on), EEVEE at :data:`CAMERA_EEVEE_SAMPLES`.

    Without a window there is often no GPU (``bpy`` on a server draws EEVEE through software OpenGL:
    minutes for the default scene), so an EEVEE scene renders with Cycles there.  Workbench and
    other engines keep the scene's settings.
    """
    render, cycles, eevee = scene.render, getattr(scene, "cycles", None), scene.eevee
    if render.engine in _EEVEE and not bpy.app.background:
        if eevee is not None:
            stack.enter_context(_overridden(eevee, taa_render_samples=min(eevee.taa_render_samples,
                                                                          CAMERA_EEVEE_SAMPLES)))
        return
    if cycles is None or render.engine not in (*_EEVEE, "CYCLES"):
        return
    denoise = has_denoiser()
    samples = CAMERA_SAMPLES_DENOISED if denoise else CAMERA_SAMPLES_NOISY
    if render.engine == "CYCLES":
        samples = min(cycles.samples, samples)
    else:
        stack.enter_context(_overridden(render, engine="CYCLES"))
    stack.enter_context(_overridden(cycles, samples=samples, use_denoising=denoise))
    if denoise:  # the colour alone, quickly: the full-quality denoiser alone takes about 20 s on 2 cores
        stack.enter_context(_overridden(cycles, denoiser="OPENIMAGEDENOISE", denoising_input_passes="RGB",
                                        denoising_prefilter="NONE", denoising_quality="FAST"))


def _render_failed(reason: str) -> ConfigError:
    return ConfigError(msg("Rendering the camera's view failed: {reason}",
                           reason=verbatim(reason) if reason else msg("no reason given")),
                       code=ErrorCode.RENDER_FAILED, hint=_RENDER_HINT)


def _rendered(out: Path) -> Path:
    if not out.is_file():
        raise ConfigError(msg("Rendering the camera's view made no image"), code=ErrorCode.RENDER_FAILED,
                          hint=_RENDER_HINT)
    return out


def render_camera(scene: bpy.types.Scene) -> Path:
    """Render the active camera's view with the scene's engine to a temporary PNG, here and now.

    For Blender without a window (a script waits anyway); with one, :class:`CameraRender`
    renders as F12 does.  Every setting is put back after.
    """
    out = temp_png("camera")
    with _camera_settings(scene, out):
        try:
            bpy.ops.render.render(write_still=True, scene=scene.name)
        except RuntimeError as exc:
            out.unlink(missing_ok=True)
            raise _render_failed(str(exc).strip()) from None
    return _rendered(out)


class CameraRender(Worker[Path]):
    """The camera's view rendered as F12 renders it: Blender's render job, with its progress, its
    render window and Esc, while the interface keeps working; the runner waits for it as for
    any background call (:attr:`done`), and its ``on_call_done`` sends the picture.

    Without a window the runner calls :meth:`run` instead: :func:`render_camera`, in place.
    """

    def __init__(self, scene: bpy.types.Scene) -> None:
        super().__init__(lambda _cancel: render_camera(scene), name="ark3d-camera")
        self.scene_name = scene.name
        self.out = temp_png("camera")
        self._settings: contextlib.ExitStack | None = None

    def start(self) -> "CameraRender":
        scene = bpy.data.scenes.get(self.scene_name)
        try:
            if scene is None:
                raise ConfigError(msg("There is no scene to render"), code=ErrorCode.NO_SCENE,
                                  hint=msg("Open a scene first"))
            self._settings = _camera_settings(scene, self.out)
            bpy.app.handlers.render_complete.append(self._complete)
            bpy.app.handlers.render_cancel.append(self._cancelled)
            if "RUNNING_MODAL" not in bpy.ops.render.render("INVOKE_DEFAULT", write_still=True, scene=scene.name):
                self._end(ConfigError(msg("Blender did not start the render: another render may be running"),
                                      code=ErrorCode.RENDER_FAILED, hint=_RENDER_HINT))
        except ArkError as exc:
            self._end(exc)
        except RuntimeError as exc:
            self._end(_render_failed(str(exc).strip()))
        return self

    def _complete(self, *_args: Any) -> None:
        try:
            self.result = _rendered(self.out)
            self._end(None)
        except ArkError as exc:
            self._end(exc)

    def _cancelled(self, *_args: Any) -> None:
        self._end(Cancelled())

    def _end(self, error: ArkError | None) -> None:
        """Settings back, handlers off, the wait over (once)."""
        for handlers, handler in ((bpy.app.handlers.render_complete, self._complete),
                                  (bpy.app.handlers.render_cancel, self._cancelled)):
            if handler in handlers:
                handlers.remove(handler)
        if self._settings is not None:
            self._settings.close()
            self._settings = None
        if error is not None:
            self.error = error
            self.out.unlink(missing_ok=True)
        self._done.set()

    def cancel(self) -> None:
        """The user's cancel (Esc on the panel, a new file): the render is not sent.  Blender's own
        render job ends on Esc over its window; it is not stopped from here."""
        super().cancel()
        if not self.done:
            self._end(Cancelled())


def resolve(context: bpy.types.Context, *, image_path: str = "", image_name: str = "",
            use_camera: bool = False) -> tuple[Path, bool]:
    """The file to send for one of the three sources: ``(path, is_temporary)``."""
    scene = context.scene
    if use_camera:
        if scene is None:
            raise ConfigError(msg("There is no scene to render"), code=ErrorCode.NO_SCENE,
                              hint=msg("Open a scene first"))
        return render_camera(scene), True
    if image_name:
        image = bpy.data.images.get(image_name)
        if image is None:
            raise ConfigError(msg("There is no image named '{name}' in this file", name=image_name),
                              code=ErrorCode.IMAGE_UNREADABLE, hint=msg("Pick an image from the list"))
        if scene is None:
            raise ConfigError(msg("There is no scene to save the image with"), code=ErrorCode.NO_SCENE,
                              hint=msg("Open a scene first"))
        return image_file(image, scene)
    if image_path:
        return Path(os.path.normpath(bpy.path.abspath(image_path))), False
    raise ConfigError(msg("No input image was chosen"), code=ErrorCode.NO_IMAGE,
                      hint=msg("Pick an image file, an image in Blender, or the active camera"))
