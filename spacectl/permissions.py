"""Permissions before writes: refuse an apply whose token cannot write where the plan writes.

Contract (`check_write_permissions`):
- runs before the first write of an apply, after the plan is known: it looks only at the Spaces
  the plan writes to (a change with operations) and their owners;
- costs one `whoami` (the client caches it per token) and, only for an owner where whoami cannot
  answer (a `contributor` of an organisation may create Spaces there but not edit others'), one
  `auth_check(write=True)` per existing Space of that owner the plan changes;
- decides from whoami as `doctor` does (`doctor.check_write_access`: read-only token, a
  fine-grained token without `repo.write` on the owner, not a member, a role that cannot write);
- raises one `AuthError` (exit 1) naming every owner or Space that cannot be written and the fix
  for the first; an invalid or expired token is the whoami's own one-line 401 AuthError. Nothing
  has been written when it raises.
"""

from __future__ import annotations

from spacectl.doctor import Verdict, check_write_access
from spacectl.errors import AuthError
from spacectl.operations import Action
from spacectl.plan import Plan
from spacectl.port import HubPort


def check_write_permissions(plan: Plan, hub: HubPort) -> int:
    """Raise AuthError unless the token can write every Space `plan` writes to; returns the
    number of Hub requests it made (0 when the plan writes nothing)."""
    writes = [c for c in plan.changes if c.operations]
    if not writes:
        return 0
    identity = hub.whoami()
    calls = 1
    owners = dict.fromkeys(c.space_id.split("/", 1)[0] for c in writes)
    missing: list[tuple[str, str | None]] = []
    for owner in owners:
        check = check_write_access(identity.raw, owner)
        if check.verdict is Verdict.FAIL:
            missing.append((f"{owner}: {check.message}", check.fix))
        elif check.verdict is Verdict.WARN:
            # Creating is allowed; editing an existing Space depends on that Space.
            for change in writes:
                if change.space_id.split("/", 1)[0] != owner or change.action is Action.CREATE:
                    continue
                calls += 1
                if not hub.can_write(change.space_id):
                    missing.append((f"{change.space_id}: {check.message}", check.fix))
    if missing:
        raise AuthError(
            "the token cannot write where this plan writes, so nothing was applied: "
            + "; ".join(message for message, _ in missing),
            status=403,
            hint=missing[0][1],
        )
    return calls
