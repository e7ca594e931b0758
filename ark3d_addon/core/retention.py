"""Ark's retention rules in one place, and which of them applies to a task now.

Ark's documents give three clocks: a task can be queried (and is listed) for 7 days after it
was created; its result files are deleted 24 hours after it finished (Seed3D's signed links say
86,400 s; the links of Hyper3D and Hitem3D results were seen valid for 604,800 s, which the
catalog records per model); a cancelled task vanishes 24 hours after it was cancelled.  The
tasks browser says which one the selected task is under and how long is left, so nobody learns
it from a dead link.
"""

from __future__ import annotations

import time

from .messages import Message, msg

__all__ = ["CANCELLED_KEPT_S", "LINK_LIFETIME_S", "LIST_WINDOW_S", "duration", "link_lifetime", "rule"]

#: Ark lists and queries tasks of the last 7 days only.
LIST_WINDOW_S = 7 * 24 * 3600
#: Result files are deleted 24 hours after the task finished (the documented rule).
LINK_LIFETIME_S = 24 * 3600
#: A cancelled task's record is removed 24 hours after it was cancelled.
CANCELLED_KEPT_S = 24 * 3600


def link_lifetime(model: str) -> int:
    """How long the result files of a task of ``model`` are kept after it finished."""
    from .catalog import CATALOG  # the catalog's models carry their own link lifetime

    return next((spec.link_lifetime_s for spec in CATALOG if spec.id == model), LINK_LIFETIME_S)


def duration(seconds: float) -> Message:
    """A span a person reads at a glance: "5 d 3 h", "7 h", "40 min"."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return msg("{days} d {hours} h", days=str(days), hours=str(hours)) if hours else msg("{days} d", days=str(days))
    if hours:
        return msg("{hours} h", hours=str(hours))
    return msg("{minutes} min", minutes=str(max(1, rest // 60)))


def rule(status: str, model: str, created_at: int | None, updated_at: int | None, *, listed: bool,
         now: float | None = None, link_expires: int | None = None) -> Message:
    """The retention rule that applies to a task now, with the time left under it.

    ``listed``: Ark listed the task in the last refresh (else only the library has it).
    ``link_expires``: when the result link dies as the link itself says; it wins over the
    model's documented lifetime.
    """
    now = time.time() if now is None else now
    if not listed:
        return msg("Only in your library: Ark lists tasks for 7 days, and no longer lists this one")
    listed_left = (created_at + LIST_WINDOW_S - now) if created_at is not None else None
    if status == "cancelled":
        if updated_at is None:
            return msg("Ark removes a cancelled task 24 h after it was cancelled")
        return msg("Ark removes a cancelled task 24 h after it was cancelled: {left} left",
                   left=duration(updated_at + CANCELLED_KEPT_S - now))
    if status == "succeeded" and link_expires is not None:
        if link_expires > now:
            return msg("The result link expires in {left} (as the link says)", left=duration(link_expires - now))
        return msg("The result link has expired (as the link says): the result files are gone from Ark")
    if status == "succeeded" and updated_at is not None:
        lifetime = link_lifetime(model)
        files_left = updated_at + lifetime - now
        if files_left > 0:
            return msg("Result files are deleted {lifetime} after the task finished: {left} left",
                       lifetime=duration(lifetime), left=duration(files_left))
        return msg("The result files were deleted {lifetime} after the task finished", lifetime=duration(lifetime))
    if listed_left is None:
        return msg("Ark lists a task for 7 days after it was created")
    return msg("Ark lists a task for 7 days after it was created: {left} left", left=duration(listed_left))
