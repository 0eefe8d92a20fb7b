"""The change model and `compute_plan()`: desired state + live state -> an immutable Plan.

Pure: no network, no filesystem, no environment. Everything the plan needs is passed in: the
manifest, the live state read through the HubPort, and the local inputs (`inputs.PlanInputs`:
scanned source folders and secret digests).

A Plan holds, per Space, a `SpaceChange` with
- `fields`: what a reviewer sees (Terraform's Before/After per attribute; secrets are `sensitive`
  and never carry a value),
- `operations`: what `apply` executes, already in the safe order (create, visibility, variables
  and secrets, volumes, hardware and sleep time, dev mode, one commit, deletion last), and
- `fingerprint`: the live state the plan was made from, so apply can refuse a stale plan.

What each managed attribute means (how it is read from both sides, normalised, diffed and
applied) is said once, in `attributes.ATTRIBUTES`; this module only iterates that table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from spacectl.attributes import (
    ATTRIBUTES,
    create_operation,
    diff_space,
)
from spacectl.card import sdk_from_source
from spacectl.errors import ManifestError
from spacectl.inputs import PlanInputs, matches_target
from spacectl.manifest import Manifest, SpaceSpec
from spacectl.operations import (
    JSON,
    Action,
    Commit,
    DeleteSpace,
    FieldChange,
    Operation,
    RestartSpace,
)
from spacectl.state import LiveSpace

FORMAT_VERSION = "1"


@dataclass(frozen=True)
class Fingerprint:
    """Live values the plan was computed from; apply re-reads and compares before writing.

    `sha` is the head commit the plan's files and card were diffed against. `values` holds one
    entry per attribute the stale check compares (`Attribute.fingerprint`), in table order;
    an entry is None when the plan did not read it (variables of an entry that manages none)."""

    exists: bool
    sha: str | None = None
    values: Mapping[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True)
class SpaceChange:
    space_id: str
    action: Action
    fields: tuple[FieldChange, ...]
    operations: tuple[Operation, ...]
    fingerprint: Fingerprint
    sdk: str | None = None
    warnings: tuple[str, ...] = ()
    reason: str = ""
    # Paths that differ but `ignore_changes` hands to humans: shown, never planned.
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanHeader:
    """Where a plan came from: recorded in saved plans, checked before a saved plan is applied.
    `manifest_path` is as the user named it; `endpoint` is the Hub's identity (URL, or
    `sandbox:DIR` for the embedded sandbox)."""

    manifest_path: str = ""
    manifest_digest: str = ""
    endpoint: str = ""
    created_at: str = ""
    environment: str = ""  # the manifest's environment (--env); "" for the manifest itself


@dataclass(frozen=True)
class Plan:
    """Immutable result of compute_plan; the only input of apply."""

    changes: tuple[SpaceChange, ...]
    header: PlanHeader = PlanHeader()
    format_version: str = FORMAT_VERSION

    def with_header(self, header: PlanHeader) -> Plan:
        return replace(self, header=header)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every Space's warnings, in plan order."""
        return tuple(w for change in self.changes for w in change.warnings)

    @property
    def is_empty(self) -> bool:
        return not any(change.operations for change in self.changes)

    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "delete": 0, "no-op": 0}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts


# --- desired vs live ------------------------------------------------------------------------------


def fingerprint(live: LiveSpace | None) -> Fingerprint:
    """The live values a plan depends on; reads that were not made stay None."""
    return Fingerprint(
        exists=live is not None,
        sha=live.sha if live else None,
        values={a.name: a.fingerprint(live) for a in ATTRIBUTES if a.fingerprint is not None},
    )


def stale_reasons(planned: Fingerprint, live: LiveSpace | None) -> list[str]:
    """What changed on the Hub since the plan saw `planned` (empty: the plan still holds).
    `live` must be read with the same needs as the plan (`apply` re-reads what the plan read)."""
    if not planned.exists:
        return ["it now exists on the Hub"] if live is not None else []
    if live is None:
        return ["it no longer exists on the Hub"]
    now = fingerprint(live)
    reasons = ["head commit"] if now.sha != planned.sha else []
    return reasons + [
        name for name, value in planned.values.items() if now.values.get(name) != value
    ]


def _plan_space(spec: SpaceSpec, live: LiveSpace | None, inputs: PlanInputs) -> SpaceChange:
    seen = fingerprint(live)
    if spec.state == "absent":
        if live is None:
            return SpaceChange(spec.id, Action.NOOP, (), (), seen, reason="already absent")
        if spec.protect:
            return SpaceChange(
                spec.id,
                Action.NOOP,
                (),
                (),
                seen,
                warnings=(f"{spec.id}: state: absent but protect: true; not deleting it",),
            )
        return SpaceChange(
            spec.id,
            Action.DELETE,
            (FieldChange("space", Action.DELETE, before=spec.id, reason="state: absent"),),
            (DeleteSpace(),),
            seen,
            sdk=live.sdk,
            reason="state: absent",
        )

    diff = diff_space(spec, live, inputs)
    if live is None:
        sdk = spec.sdk or sdk_from_source(inputs.files.get(spec.id))
        if not sdk and spec.template is None:  # a duplicate has its template's
            raise ManifestError(
                "required to create the Space (it does not exist on the Hub yet)",
                where=f"spaces.{spec.id}.sdk",
            )
        create = replace(create_operation(sdk or "", diff), template=spec.template)
        fields = (FieldChange("space", Action.CREATE, after=spec.id), *diff.fields)
        if spec.template:
            copy = FieldChange("template", Action.CREATE, after=spec.template, reason="duplicated")
            fields = (fields[0], copy, *fields[1:])
        return SpaceChange(
            spec.id,
            Action.CREATE,
            fields,
            (create, *diff.operations),
            seen,
            sdk=sdk,
            warnings=diff.warnings,
        )
    fields, operations = diff.fields, diff.operations
    if operations and spec.restart != "never":
        # One planned operation after every other change, shown as a field of its own.
        restart = RestartSpace(factory=spec.restart == "factory_on_change")
        reason = f"restart: {spec.restart}"
        fields += (FieldChange("restart", Action.CREATE, after=restart.describe(), reason=reason),)
        operations += (restart,)
    return SpaceChange(
        spec.id,
        Action.UPDATE if operations else Action.NOOP,
        fields,
        operations,
        seen,
        sdk=live.sdk,
        warnings=diff.warnings,
        ignored=diff.ignored,
    )


def compute_plan(
    manifest: Manifest, live: Mapping[str, LiveSpace | None], local: PlanInputs
) -> Plan:
    """The changes that make the Hub match the manifest, per Space in manifest order, with an
    empty header (the caller adds one with `Plan.with_header` before saving or rendering it).

    `live` maps every targeted Space id to its live state (None when absent or invisible).
    Spaces on the Hub that the manifest does not list are never touched.
    """
    changes = [
        _plan_space(spec, live.get(spec.id), local)
        for spec in manifest.spaces
        if matches_target(spec.id, local.targets)
    ]
    # Deleting whole Spaces runs after every create and update.
    changes.sort(key=lambda c: c.action is Action.DELETE)
    return Plan(changes=tuple(changes))


def uploads(plan: Plan) -> dict[str, frozenset[str]]:
    """Per Space, the paths the plan's commits upload."""
    return {
        change.space_id: frozenset(
            add.path for op in change.operations if isinstance(op, Commit) for add in op.additions
        )
        for change in plan.changes
    }
