"""apply's per-Space lock: a branch named `spacectl-lock` on the Space.

The Hub offers one create-if-absent that a Space-scoped (keyless) token can use: creating a branch
answers 409 "Reference already exists" when it exists. So `acquire` creates the branch (at
`main`'s head) and a second apply of the same Space gets ConflictError and refuses that Space
(`LockHeld`) before its first write; `release` deletes the branch. The lock says nothing about
who holds it: a lock left by an apply that was killed (SIGKILL, a cancelled CI job) stays until
`spacectl unlock` deletes it. Nothing reads the branch: plans, status and import look at `main`
only, so the lock never shows in a plan or in state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from spacectl.errors import ConflictError, SpacectlError
from spacectl.port import HubPort

LOCK_BRANCH = "spacectl-lock"
# How often `acquire` asks again while waiting for a held lock (`--lock-timeout`).
POLL_SECONDS = 2.0


class LockHeld(SpacectlError):
    """Another apply holds this Space's lock (or one was left behind): nothing was written."""


def held_message(space_id: str) -> LockHeld:
    return LockHeld(
        f"{space_id}: another spacectl apply holds its lock (branch {LOCK_BRANCH}); "
        "nothing was written to it",
        hint="wait for that apply to finish and run `spacectl apply` again; if no apply is "
        f"running (a job was killed), run `spacectl unlock {space_id}`",
    )


def acquire(
    hub: HubPort,
    space_id: str,
    *,
    timeout: float = 0.0,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Take the Space's lock, asking again every POLL_SECONDS for up to `timeout` seconds while
    another holds it (Terraform's -lock-timeout); LockHeld when it stays held. `stop` set
    (Ctrl-C) ends the wait at once."""
    stop = stop or threading.Event()
    deadline = clock() + timeout
    while True:
        try:
            hub.create_branch(space_id, LOCK_BRANCH)
            return
        except ConflictError:
            left = deadline - clock()
            if left <= 0 or stop.is_set():
                raise held_message(space_id) from None
        if stop.wait(min(POLL_SECONDS, left)):
            raise held_message(space_id)


def release(hub: HubPort, space_id: str) -> bool:
    """Delete the lock, whoever holds it (apply giving its own back, or `spacectl unlock`);
    False when there was none. A Space deleted meanwhile (or a lock gone already) is no error."""
    return hub.delete_branch(space_id, LOCK_BRANCH)
