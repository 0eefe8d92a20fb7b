"""What a request works in: the state every request shares (`Sandbox`), the sandbox's clock,
and the per-request `Context` with the caller and the Hub's permission rules.

Nothing here speaks HTTP: the app builds a `Context` from the `Authorization` header, and the
context answers who is calling and which Spaces they may see, read or change, raising the
`ApiError` the Hub answers with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from spacectl.sandbox.config import SandboxOptions
from spacectl.sandbox.errors import ApiError, Moved, repo_not_found
from spacectl.sandbox.faults import FaultSettings, RequestLog
from spacectl.sandbox.models.oidc import Exchange
from spacectl.sandbox.records import Principal, Space
from spacectl.sandbox.store import Store

_WRITE_TOKEN_NEEDED = "You must be authenticated to do this; send a write token"
_READ_ONLY = "This token has read-only access; this operation requires a write token"


class Clock:
    """The sandbox's clock: the machine's, plus an offset that `PUT /_sandbox/clock` advances.
    Every timestamp and simulated build uses it; the offset is not persisted."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Sandbox:
    """The state every request shares. `faults` is replaced whole by `PUT /_sandbox/faults`;
    the fault middleware reads it afresh for every request."""

    store: Store
    options: SandboxOptions
    faults: FaultSettings
    clock: Clock = field(default_factory=Clock)
    log: RequestLog = field(default_factory=RequestLog)
    creating: set[str] = field(default_factory=set)  # users with a create_repo under way
    oidc: Exchange = field(default_factory=lambda: Exchange(None))


_UNKNOWN = object()


class Context:
    """One request: its caller (from `authorization`, the raw header or None) and lookups.

    The caller is looked up when first asked for, so a request that never needs it is answered
    whatever its token; an unknown token is a 401 from then on.
    """

    def __init__(self, sandbox: Sandbox, authorization: str | None) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store
        self.options = sandbox.options
        self._authorization = authorization
        self._principal: object = _UNKNOWN

    def now(self) -> float:
        return self.sandbox.clock.now()

    def principal(self) -> Principal | None:
        """The caller, or None when anonymous; 401 for a token the sandbox does not know."""
        if isinstance(self._principal, Principal) or self._principal is None:
            return self._principal
        found = None
        if self._authorization:
            scheme, _, token = self._authorization.partition(" ")
            if scheme.lower() == "bearer":
                found = self._authenticate(token.strip())
            if found is None:
                raise ApiError(401, "Invalid credentials in Authorization header")
        self._principal = found
        return found

    def _authenticate(self, token: str) -> Principal | None:
        with self.store.transaction():  # a token another process sharing --data added counts
            found = self.store.tokens.get(token)
            if found is None:
                issued = self.sandbox.oidc.lookup(token, self.now())
                if issued is None:
                    return None
                # Named after the Space's namespace (commit authors), but no member of it.
                space = issued.space.lower()
                return Principal(user=space.split("/")[0], role="write", orgs=[], scope=space)
            orgs = sorted(o.name for o in self.store.orgs.values() if found.user in o.members)
            return Principal(user=found.user, role=found.role, orgs=orgs)

    def writer(self) -> Principal:
        """The caller, who must hold a write token (401 anonymous, 403 read-only)."""
        found = self.principal()
        if found is None:
            raise ApiError(401, _WRITE_TOKEN_NEEDED)
        if not found.can_write:
            raise ApiError(403, _READ_ONLY)
        return found

    # -- permissions ----------------------------------------------------------------------------

    def is_member(self, namespace: str) -> bool:
        """The caller is the user `namespace` or a member of the org `namespace`."""
        who = self.principal()
        if who is None or who.scope is not None:
            return False
        return who.user == namespace or namespace in who.orgs

    def manages(self, space: Space) -> bool:
        """The caller may read and change `space`: a member of its namespace, or a Trusted
        Publisher token scoped to it."""
        who = self.principal()
        if who is not None and who.scope is not None:
            return who.scope == space.id.lower()
        return self.is_member(space.namespace)

    def can_see(self, space: Space) -> bool:
        """Public and protected Spaces are visible to all; private ones to their namespace only."""
        return space.visibility != "private" or self.manages(space)

    def can_read_files(self, space: Space) -> bool:
        """A protected Space shows its app to everyone but its files only to its namespace."""
        return space.visibility == "public" or self.manages(space)

    def require_namespace(self, namespace: str) -> None:
        """403 unless the caller may create Spaces under `namespace`."""
        if not self.is_member(namespace):
            raise ApiError(
                403, f"You don't have the rights to create a space under the namespace {namespace}"
            )

    def space(self, repo_id: str, *, files: bool = False, write: bool = False) -> Space:
        """The Space `repo_id` (any letter case) as the caller may use it.

        Invisible (or, with `files`, unreadable) is 404 as if it did not exist; with `write`,
        anonymous is 401, and a non-member or a read-only token is 403.
        """
        who = self.principal()  # a bad token is a 401 even for a missing Space
        space = self.store.find(repo_id)
        if space is None:
            moved = self.store.moved(repo_id)
            if moved is not None and self.can_see(moved):
                raise Moved(moved.id)
        if space is None or not self.can_see(space):
            raise repo_not_found()
        if files and not self.can_read_files(space):
            raise repo_not_found()
        if write:
            if who is None:
                raise ApiError(401, _WRITE_TOKEN_NEEDED)
            if not self.manages(space):
                raise ApiError(403, f"You don't have the rights to modify {space.id}")
            if not who.can_write:
                raise ApiError(403, _READ_ONLY)
        return space
