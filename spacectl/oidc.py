"""Keyless mode (`--oidc`): every Space read and written with its own Trusted Publisher token.

The Hub's Trusted Publishers exchange a CI job's OIDC id token for a token that lasts an hour and
may read and write one repository. A manifest spans many Spaces, so `KeylessHub` mints one id
token (hub.mint_id_token) and exchanges it per Space, on first use, for a token scoped to
`spaces/OWNER/NAME`; each Space's calls go through a Hub of its own token. A token is exchanged
again five minutes before it expires on the Hub's clock (learnt from its `Date` headers), or at
once when the Hub answers 401 (a request refused for a stale token changed nothing, so it is
repeated).

What a Space-scoped token cannot do is said plainly: creating and deleting Spaces, and listing an
owner's Spaces, need a user or organisation token. Reads are therefore per Space (one exchange
and one `space_info` each, instead of one bulk listing per owner). A Space whose exchange is
refused (no trusted publisher for this workflow) is recorded in `refused`; `refuse_keyless`
turns those, and the creates and deletes, into plan entries that change nothing and say why and
how to fix it. With another token as well (`--token`/HF_TOKEN), that token does what keyless
tokens cannot.

Depends on the Hub only through the `SpaceHub` protocol (hub.Hub is the one implementation), so
it never loads huggingface_hub itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from spacectl.doctor import Check, Verdict
from spacectl.errors import AuthError, HubError
from spacectl.manifest import Manifest
from spacectl.operations import Action, CreateSpace, DeleteSpace
from spacectl.plan import Fingerprint, Plan, SpaceChange
from spacectl.port import HubPort, SecretToWrite, Upload
from spacectl.results import AppAnswer, ApplyResult, Outcome, SpaceResult
from spacectl.state import Identity, LiveFile, LiveSpace, ReadmeCheck, ReadNeeds, Runtime

T = TypeVar("T")

# Exchange again this long before a token expires (the client's own margin for HF_OIDC_RESOURCE).
REFRESH_MARGIN = timedelta(minutes=5)
TRUST_FIX = (
    "on the Space's Settings page add a Trusted Publisher for this workflow (the issuer and "
    "subject of its id token), or run with a user or organisation token (HF_TOKEN)"
)
TOKEN_FIX = "run with a user or organisation token as well (HF_TOKEN or --token)"
_NEEDS_TOKEN = {
    "create": "creating a Space needs a user or organisation token (a Trusted Publisher "
    "token is scoped to one existing Space)",
    "delete": "deleting a Space needs a user or organisation token",
    "list": "listing an owner's Spaces needs a user or organisation token (a Trusted "
    "Publisher token is scoped to one Space)",
    "whoami": "a Trusted Publisher token has no user identity",
}


def needs_token(what: str) -> AuthError:
    """The refusal of something keyless tokens cannot do, with the fix."""
    return AuthError(f"--oidc: {_NEEDS_TOKEN[what]}", hint=TOKEN_FIX)


class SpaceHub(HubPort, Protocol):
    """A HubPort that can also read a Space with needs decided on its state, and exchange an id
    token for a Space-scoped token (`hub.Hub`)."""

    def read_space(
        self, space_id: str, needs: ReadNeeds | Callable[[LiveSpace], ReadNeeds]
    ) -> LiveSpace | None: ...
    def exchange_id_token(self, id_token: str, space_id: str) -> tuple[str, float]: ...


@dataclass
class _Grant:
    token: str
    expires_at: datetime
    hub: SpaceHub


class KeylessHub:
    """The HubPort of `--oidc`. `base` is the Hub of the other token (`has_token`) or an
    anonymous one: it exchanges id tokens and serves what needs no Space (hardware, README
    validation) and, with a token, what keyless tokens cannot do. `mint()` gives an id token
    and whether it can be minted again (else the first one is reused for every exchange);
    `space_hub(token)` makes the Hub of one Space's token; `now()` is the Hub's clock."""

    def __init__(
        self,
        base: SpaceHub,
        *,
        has_token: bool,
        mint: Callable[[], tuple[str, bool]],
        space_hub: Callable[[str], SpaceHub],
        now: Callable[[], datetime],
        note: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.endpoint = base.endpoint
        self.identity = base.identity
        # The long-lived token, if any: what credential checks compare secrets against (the
        # exchanged tokens are minutes old and scoped to their Space).
        self.token: str | None = base.token if has_token else None
        self.refused: dict[str, str] = {}
        self.exchanges = 0
        self._base = base
        self._has_token = has_token
        self._mint = mint
        self._make = space_hub
        self._now = now
        self._note = note
        self._id_token: tuple[str, bool] | None = None
        self._grants: dict[str, _Grant] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    # --- tokens -------------------------------------------------------------------------------

    def _subject_token(self, again: bool) -> str:
        """The id token: minted once; minted anew for a refresh when the provider can."""
        with self._lock:
            if self._id_token is None or (again and self._id_token[1]):
                self._id_token = self._mint()
            return self._id_token[0]

    def _space_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def _hub(self, space_id: str, *, force: bool = False) -> SpaceHub:
        """The Hub of this Space's own token, exchanged (again) when missing, about to expire or
        `force`d; `base` for a Space that trusts no publisher of ours when there is a token.
        AuthError when the Space refused the exchange and there is no token."""
        key = space_id.lower()
        with self._space_lock(key):
            grant = self._grants.get(key)
            if grant is not None and not force and self._now() < grant.expires_at - REFRESH_MARGIN:
                return grant.hub
            if key in self.refused:
                return self._fallback(space_id)
            subject_token = self._subject_token(again=grant is not None)
            try:
                token, seconds = self._base.exchange_id_token(subject_token, space_id)
            except HubError as exc:
                if grant is not None or exc.status not in (400, 401, 403):
                    message = f"{space_id}: {exc.message}"
                    raise AuthError(message, status=exc.status, hint=TRUST_FIX) from None
                self.refused[key] = exc.message
                return self._fallback(space_id)
            self.exchanges += 1
            if grant is not None:
                self._note(f"{space_id}: keyless token exchanged again before it expires")
            fresh = _Grant(token, self._now() + timedelta(seconds=seconds), self._make(token))
            self._grants[key] = fresh
            return fresh.hub

    def _fallback(self, space_id: str) -> SpaceHub:
        if self._has_token:
            return self._base
        raise AuthError(f"{space_id}: {self.refused[space_id.lower()]}", hint=TRUST_FIX)

    def _per_space(self, space_id: str, call: Callable[[SpaceHub], T]) -> T:
        hub = self._hub(space_id)
        try:
            return call(hub)
        except AuthError as exc:
            if exc.status != 401 or hub is self._base:
                raise
            self._note(f"{space_id}: the Hub rejected the keyless token (401); exchanging again")
            return call(self._hub(space_id, force=True))

    def refusal(self, space_id: str) -> str | None:
        """Why this Space's exchange was refused, None if it was not (or not tried)."""
        return self.refused.get(space_id.lower())

    def exchange_refusal(self, space_id: str) -> str | None:
        """Exchange the id token for this Space now (if not done yet): None when a token was
        issued, else why not."""
        try:
            self._hub(space_id)
        except AuthError as exc:
            return self.refusal(space_id) or exc.message
        return self.refusal(space_id)

    @property
    def has_token(self) -> bool:
        """Another token does what keyless tokens cannot (creates, deletes, listings)."""
        return self._has_token

    # --- identity and catalogues --------------------------------------------------------------

    def whoami(self) -> Identity:
        if not self._has_token:
            raise needs_token("whoami")
        return self._base.whoami()

    def can_write(self, space_id: str) -> bool:
        try:
            return self._per_space(space_id, lambda hub: hub.can_write(space_id))
        except AuthError:
            return False

    def hardware_flavors(self) -> list[str]:
        return self._base.hardware_flavors()

    def validate_readme(self, content: str) -> ReadmeCheck:
        return self._base.validate_readme(content)

    # --- reading ------------------------------------------------------------------------------

    def list_owner(self, owner: str) -> dict[str, LiveSpace]:
        if not self._has_token:
            raise needs_token("list")
        return self._base.list_owner(owner)

    def read_live(
        self,
        needs: Mapping[str, ReadNeeds | Callable[[LiveSpace], ReadNeeds]],
        *,
        parallelism: int = 8,
        listed: Mapping[str, LiveSpace] | None = None,
    ) -> dict[str, LiveSpace | None]:
        """Each Space read with its own token (no bulk listing: that needs an owner's token); a
        refused Space reads as None and is in `refused`. When every Space refused the exchange
        and there is no other token, the id token itself is the problem: one AuthError."""

        def one(space_id: str) -> LiveSpace | None:
            try:
                return self.read_space(space_id, needs[space_id])
            except AuthError:
                if self.refusal(space_id) is None:
                    raise
                return None

        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
            result = dict(zip(needs, pool.map(one, list(needs)), strict=True))
        refused = [sid for sid in needs if sid.lower() in self.refused]
        if needs and not self._has_token and len(refused) == len(needs):
            first = refused[0]
            raise AuthError(f"--oidc: {first}: {self.refused[first.lower()]}", hint=TRUST_FIX)
        return result

    def read_space(
        self, space_id: str, needs: ReadNeeds | Callable[[LiveSpace], ReadNeeds]
    ) -> LiveSpace | None:
        return self._per_space(space_id, lambda hub: hub.read_space(space_id, needs))

    def head(self, space_id: str) -> str | None:
        return self._per_space(space_id, lambda hub: hub.head(space_id))

    def commit_ids(self, space_id: str) -> list[str]:
        return self._per_space(space_id, lambda hub: hub.commit_ids(space_id))

    def list_files(self, space_id: str, revision: str) -> dict[str, LiveFile]:
        return self._per_space(space_id, lambda hub: hub.list_files(space_id, revision))

    def read_text(self, space_id: str, path: str, revision: str) -> str | None:
        return self._per_space(space_id, lambda hub: hub.read_text(space_id, path, revision))

    def runtime(self, space_id: str) -> Runtime:
        return self._per_space(space_id, lambda hub: hub.runtime(space_id))

    def restart_space(self, space_id: str, *, factory: bool) -> None:
        self._per_space(space_id, lambda hub: hub.restart_space(space_id, factory=factory))

    def runtimes(self, owner: str) -> dict[str, Runtime]:
        # An owner's listing needs an owner's token; without one, --wait reads each Space.
        if not self._has_token:
            raise needs_token("list")
        return self._base.runtimes(owner)

    def logs(self, space_id: str, *, build: bool, follow: bool = False) -> Iterator[str]:
        return self._hub(space_id).logs(space_id, build=build, follow=follow)

    def download_space(self, space_id: str, revision: str | None, folder: Path) -> Path:
        return self._per_space(space_id, lambda hub: hub.download_space(space_id, revision, folder))

    def get_app(self, space_id: str, path: str, *, timeout: float) -> AppAnswer:
        return self._per_space(space_id, lambda hub: hub.get_app(space_id, path, timeout=timeout))

    # --- writing ------------------------------------------------------------------------------

    def create_space(
        self, space_id: str, create: CreateSpace, secrets: Sequence[SecretToWrite]
    ) -> None:
        if not self._has_token:
            raise needs_token("create")
        self._base.create_space(space_id, create, secrets)

    def delete_space(self, space_id: str) -> None:
        if not self._has_token:
            raise needs_token("delete")
        self._base.delete_space(space_id)

    def create_branch(self, space_id: str, branch: str) -> None:
        # apply's lock: taken with the Space's own token, like every write to it.
        self._per_space(space_id, lambda hub: hub.create_branch(space_id, branch))

    def delete_branch(self, space_id: str, branch: str) -> bool:
        return self._per_space(space_id, lambda hub: hub.delete_branch(space_id, branch))

    def set_visibility(self, space_id: str, visibility: str) -> None:
        self._per_space(space_id, lambda hub: hub.set_visibility(space_id, visibility))

    def set_variable(self, space_id: str, key: str, value: str) -> None:
        self._per_space(space_id, lambda hub: hub.set_variable(space_id, key, value))

    def delete_variable(self, space_id: str, key: str) -> None:
        self._per_space(space_id, lambda hub: hub.delete_variable(space_id, key))

    def set_secret(self, space_id: str, secret: SecretToWrite) -> None:
        self._per_space(space_id, lambda hub: hub.set_secret(space_id, secret))

    def delete_secret(self, space_id: str, key: str) -> None:
        self._per_space(space_id, lambda hub: hub.delete_secret(space_id, key))

    def set_volumes(self, space_id: str, volumes: Sequence[Mapping[str, Any]]) -> None:
        self._per_space(space_id, lambda hub: hub.set_volumes(space_id, volumes))

    def delete_volumes(self, space_id: str) -> None:
        self._per_space(space_id, lambda hub: hub.delete_volumes(space_id))

    def set_hardware(self, space_id: str, hardware: str | None, sleep_time: int | None) -> None:
        self._per_space(space_id, lambda hub: hub.set_hardware(space_id, hardware, sleep_time))

    def set_dev_mode(self, space_id: str, enabled: bool) -> None:
        self._per_space(space_id, lambda hub: hub.set_dev_mode(space_id, enabled))

    def commit(
        self,
        space_id: str,
        *,
        parent: str | None,
        message: str,
        additions: Sequence[Upload],
        deletions: Sequence[str],
    ) -> str:
        return self._per_space(
            space_id,
            lambda hub: hub.commit(
                space_id, parent=parent, message=message, additions=additions, deletions=deletions
            ),
        )


# --- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A Space keyless mode does not apply: why, and the fix."""

    space_id: str
    reason: str
    fix: str

    @property
    def warning(self) -> str:
        return f"{self.space_id}: not applied keylessly: {self.reason}; fix: {self.fix}"


def keyless_refusals(hub: HubPort) -> dict[str, str]:
    """With the keyless Hub and no other token: why each refused Space's exchange failed
    (lowercase ids). Empty for any other Hub, or when a token does those Spaces instead."""
    if isinstance(hub, KeylessHub) and not hub.has_token:
        return dict(hub.refused)
    return {}


def planned_manifest(manifest: Manifest, refused: Mapping[str, str]) -> Manifest:
    """The manifest without the Spaces whose exchange was refused: their state is unknown, so
    no diff is computed for them (`refuse_keyless` adds their entries)."""
    keep = tuple(spec for spec in manifest.spaces if spec.id.lower() not in refused)
    return manifest.model_copy(update={"spaces": keep})


def refuse_keyless(
    plan: Plan, refused: Mapping[str, str], order: Sequence[str], *, has_token: bool
) -> tuple[Plan, tuple[Refusal, ...]]:
    """The plan keyless mode applies, and what it refuses before any write.

    Refused are the Spaces in `refused` (exchange refused: no trusted publisher for this
    workflow; ids of `order`, the targeted manifest entries, lowercase keys) and, without another
    token, the creates and deletes. A refused Space stays in the plan as an entry that changes
    nothing, with a warning giving the reason and the fix."""
    refusals: list[Refusal] = []
    changes: list[SpaceChange] = []
    for change in plan.changes:
        kinds = {type(op) for op in change.operations}
        why = None
        if has_token:
            why = None
        elif CreateSpace in kinds:
            why = Refusal(change.space_id, _NEEDS_TOKEN["create"], TRUST_FIX + " to create it")
        elif DeleteSpace in kinds:
            why = Refusal(change.space_id, _NEEDS_TOKEN["delete"], TOKEN_FIX)
        if why is None:
            changes.append(change)
            continue
        refusals.append(why)
        changes.append(_refused_entry(change.space_id, why, change.fingerprint))
    for space_id in order:
        if not has_token and space_id.lower() in refused:
            why = Refusal(space_id, refused[space_id.lower()], TRUST_FIX)
            refusals.append(why)
            changes.append(_refused_entry(space_id, why, Fingerprint(exists=False)))
    changes.sort(key=lambda c: c.action is Action.DELETE)
    return Plan(changes=tuple(changes), header=plan.header), tuple(refusals)


_REFUSED = "refused: not applied keylessly"


def _refused_entry(space_id: str, why: Refusal, seen: Fingerprint) -> SpaceChange:
    return SpaceChange(
        space_id, Action.NOOP, (), (), seen, warnings=(why.warning,), reason=_REFUSED
    )


def saved_refusals(plan: Plan) -> tuple[Refusal, ...]:
    """The refusals a keyless plan recorded (`refuse_keyless`'s entries), read back from a saved
    plan so that `apply --oidc PLANFILE` reports them and fails as the plan that made them did."""
    refusals = []
    for change in plan.changes:
        if change.reason != _REFUSED or not change.warnings:
            continue
        prefix = f"{change.space_id}: not applied keylessly: "
        text = change.warnings[0].removeprefix(prefix)
        reason, _, fix = text.rpartition("; fix: ")
        refusals.append(Refusal(change.space_id, reason or text, fix or TRUST_FIX))
    return tuple(refusals)


def with_refusals(result: ApplyResult, refusals: Sequence[Refusal]) -> ApplyResult:
    """Apply's result with each refused Space REFUSED (nothing was written to it), its reason
    as the error and the fix as the hint."""
    by_id = {r.space_id: r for r in refusals}
    spaces = tuple(
        SpaceResult(
            r.space_id, Outcome.REFUSED, error=by_id[r.space_id].reason, hint=by_id[r.space_id].fix
        )
        if r.space_id in by_id
        else r
        for r in result.spaces
    )
    return ApplyResult(spaces)


# --- doctor --------------------------------------------------------------------------------------


def keyless_checks(manifest: Manifest, hub: KeylessHub) -> list[Check]:
    """`doctor --oidc`: per Space, whether this workflow's id token is exchanged for a token of
    it and that token may write it; then which Spaces trust this workflow."""
    checks: list[Check] = []
    trusting: list[str] = []
    for spec in manifest.spaces:
        name = f"keyless ({spec.id})"
        refusal = hub.exchange_refusal(spec.id)
        if refusal is not None:
            checks.append(Check(name, Verdict.FAIL, refusal, TRUST_FIX))
            continue
        trusting.append(spec.id)
        if hub.can_write(spec.id):
            checks.append(Check(name, Verdict.PASS, "token exchanged; it may write the Space"))
        else:
            checks.append(
                Check(
                    name,
                    Verdict.FAIL,
                    "token exchanged, but it may not write the Space (missing?)",
                    "create the Space once with a user or organisation token",
                )
            )
    verdict = Verdict.PASS if len(trusting) == len(manifest.spaces) else Verdict.WARN
    shown = ", ".join(trusting) or "none"
    message = f"{len(trusting)} of {len(manifest.spaces)} Space(s) trust this workflow: {shown}"
    checks.append(
        Check("keyless", verdict, message, None if verdict is Verdict.PASS else TRUST_FIX)
    )
    return checks
