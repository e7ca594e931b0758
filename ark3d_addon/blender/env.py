"""What Blender allows and offers right now: online access and an event loop, and the errors they raise.

Each refusal is built here once, so the panel, the operators, the browser and the scripting
API say the same thing the same way.
"""

import bpy

from ..core.errors import ArkError, ConfigError, ErrorCode
from ..core.messages import msg
from ..core.settings import Settings

__all__ = [
    "ONLINE_HINT",
    "ONLINE_HINT_BACKGROUND",
    "busy_error",
    "has_event_loop",
    "offline_error_or_none",
    "online_access_allowed",
    "require_network",
]

ONLINE_HINT = msg("Turn on Edit > Preferences > System > Network > Allow Online Access, then try again")
#: Background Blender and the ``bpy`` module have no Preferences window: the line of Python that does it.
ONLINE_HINT_BACKGROUND = msg(
    "Run bpy.context.preferences.system.use_online_access = True (in each new process, before the first "
    "request), or start Blender with --online-mode, then try again")


def online_access_allowed() -> bool:
    """Blender 4.2+ lets users forbid network use; older Blenders have no such switch."""
    return bool(getattr(bpy.app, "online_access", True))


def has_event_loop(context: bpy.types.Context) -> bool:
    """A window to run modal work in; background Blender and the ``bpy`` module have none."""
    return not bpy.app.background and context.window is not None


def offline_error_or_none() -> ConfigError | None:
    """The error of a request Blender may not make now, or None when it may."""
    if online_access_allowed():
        return None
    return ConfigError(msg("Blender's online access is turned off"), code=ErrorCode.ONLINE_ACCESS_DISABLED,
                       hint=ONLINE_HINT_BACKGROUND if bpy.app.background else ONLINE_HINT)


def require_network(settings: Settings) -> None:
    """Refuse, before any request, what needs the network when Blender may not use it or has no key."""
    error = offline_error_or_none()
    if error is not None:
        raise error
    settings.require_key()


def busy_error(task_id: str) -> ArkError:
    """A second job for a task this Blender is already working on."""
    return ArkError(msg("Task {task_id} is already being imported", task_id=task_id), code=ErrorCode.BUSY,
                    hint=msg("Wait for it to finish, or cancel it in the Ark 3D panel"))
