"""The attribute table: one entry per managed Space attribute (Terraform's provider schema).

Each `Attribute` says, once, for one attribute:
- `desired(ctx)`: its value as the manifest wants it, normalised, or UNMANAGED when the entry
  leaves it out (spacectl then never touches it);
- `live(space)`: its value as the Hub reports it, normalised to the same form; `absent` is the
  live value of a Space that does not exist yet;
- `scope`: how much of the live value is compared (variables: only the keys the manifest lists,
  unless `prune`);
- `diff`: the field changes between the two (by default deepdiff over the normalised forms, one
  FieldChange per changed path down to `depth`);
- `operations`: the operations that apply those changes, run in `stage` order;
- `create`: the CreateSpace field the desired value fills when the Space is created (attributes
  without one are applied by their own operations right after the create);
- `fingerprint`: the live value the stale check compares (None: not compared).

`plan.compute_plan`, `create_operation`, the fingerprint and stale check, and `adopt` iterate
this table; nothing else restates an attribute. Pure: no network, no filesystem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deepdiff import DeepDiff

from spacectl.card import app_warnings, card_fields, desired_readme
from spacectl.files import LocalFile, planned_files, tree_changes
from spacectl.ignoring import hold, is_ignored
from spacectl.inputs import PlanInputs
from spacectl.manifest import FREE_HARDWARE, CardSpec, SpaceSpec
from spacectl.operations import (
    ABSENT,
    JSON,
    Action,
    Commit,
    CreateSpace,
    DeleteSecret,
    DeleteVariable,
    DeleteVolumes,
    FieldChange,
    Operation,
    SecretWrite,
    SetDevMode,
    SetHardware,
    SetSecret,
    SetVariable,
    SetVisibility,
    SetVolumes,
)
from spacectl.secrets import SECRET_KEY_ENV, rewrite_reason
from spacectl.state import LiveSpace
from spacectl.volumes import volumes_by_mount


class _Unmanaged:
    def __repr__(self) -> str:
        return "UNMANAGED"


UNMANAGED: Any = _Unmanaged()

# Apply order (Attribute.stage): settings and secrets before the code that builds.
STAGE_VISIBILITY, STAGE_ENV, STAGE_VOLUMES, STAGE_HARDWARE, STAGE_FILES = 1, 2, 3, 4, 5


@dataclass
class SpaceContext:
    """One Space while it is planned: the inputs, and what earlier entries of the table found."""

    spec: SpaceSpec | None
    live: LiveSpace | None
    inputs: PlanInputs | None = None
    warnings: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    desired: dict[str, JSON] = field(default_factory=dict)
    changes: dict[str, tuple[FieldChange, ...]] = field(default_factory=dict)

    @property
    def local(self) -> Mapping[str, LocalFile] | None:
        if self.inputs is None or self.spec is None:
            return None
        return self.inputs.files.get(self.spec.id)

    def changed(self, name: str) -> bool:
        return bool(self.changes.get(name))

    @property
    def ignore_changes(self) -> tuple[str, ...]:
        """The entry's `ignore_changes`; a Space being created gets every field regardless."""
        return self.spec.ignore_changes if self.spec is not None and self.live else ()


Differ = Callable[["Attribute", JSON, JSON, SpaceContext], list[FieldChange]]
Operations = Callable[[tuple[FieldChange, ...], JSON, SpaceContext], list[Operation]]


def _no_operations(
    fields: tuple[FieldChange, ...], want: JSON, ctx: SpaceContext
) -> list[Operation]:
    """Carried by another attribute's operation (sdk and card ride in README.md's commit)."""
    return []


def _same(have: JSON, want: JSON, ctx: SpaceContext) -> JSON:
    return have


def _path(name: str, parts: tuple[Any, ...]) -> str:
    """`variables.KEY`, `card.title`, `volumes[/data].read_only`: keys that read as names join
    with a dot, others (mount paths, list indexes) go in brackets."""
    text = name
    for part in parts:
        key = str(part)
        text += f".{key}" if key.replace("_", "").replace("-", "").isalnum() else f"[{key}]"
    return text


def _top_key(name: str, path: str) -> str:
    """The first key of a `_path` (`variables.KEY` or `variables[KEY]`) spelled back."""
    rest = path[len(name) :]
    return rest[1:] if rest.startswith(".") else rest[1 : rest.index("]")]


def _lookup(value: JSON, parts: tuple[Any, ...]) -> JSON:
    for part in parts:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return ABSENT
    return value


def _equal(a: JSON, b: JSON) -> bool:
    """Equal for certain, as deepdiff would find them: the same types (an int and a float only
    as numbers, never a bool) and equal values. False sends the pair on to deepdiff."""
    numbers = (int, float)
    if type(a) is not type(b) and not (
        type(a) in numbers and type(b) in numbers  # type(), not isinstance: bool is an int
    ):
        return False
    if isinstance(a, Mapping):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def deep_diff(attr: Attribute, have: JSON, want: JSON, ctx: SpaceContext) -> list[FieldChange]:
    """Field changes by path: deepdiff over the normalised forms; a change below `attr.depth`
    is reported at that depth (a changed list in the card is one `card.tags` change)."""
    if _equal(have, want):
        return []  # the common case, without deepdiff's cost (a third of a 100-Space plan's CPU)
    diff = DeepDiff(
        have,
        want,
        view="tree",
        ignore_numeric_type_changes=True,
        threshold_to_diff_deeper=0,  # a mapping with no key in common still diffs key by key
        ignore_private_variables=False,  # `__TOKEN` is a variable like any other
    )
    if not diff:
        return []
    paths: list[tuple[Any, ...]] = []
    for levels in diff.values():
        for level in levels:
            parts = tuple(level.path(output_format="list"))[: attr.depth]
            if parts not in paths:
                paths.append(parts)
    order = list(want) if isinstance(want, Mapping) else []

    def rank(parts: tuple[Any, ...]) -> tuple[int, int, str]:
        top = parts[0] if parts else None
        if top in order:
            return (0, order.index(top), str(parts[1:]))
        return (1, 0, str(parts))

    changes = []
    for parts in sorted(paths, key=rank):
        before, after = _lookup(have, parts), _lookup(want, parts)
        if after is ABSENT:
            action, reason = Action.DELETE, attr.removal_reason
        elif (
            ctx.live is None
            or before is ABSENT
            or before is None
            or (not parts and before in ([], {}))
        ):
            action, reason = Action.CREATE, ""
        else:
            action, reason = Action.UPDATE, ""
        changes.append(
            FieldChange(_path(attr.name, parts), action, before=before, after=after, reason=reason)
        )
    return changes


@dataclass(frozen=True)
class Attribute:
    name: str
    desired: Callable[[SpaceContext], JSON]
    live: Callable[[LiveSpace], JSON]
    absent: JSON = None
    scope: Callable[[JSON, JSON, SpaceContext], JSON] = _same
    diff: Differ = deep_diff
    depth: int = 0
    removal_reason: str = ""
    operations: Operations = _no_operations
    stage: int = 0
    create: Callable[[JSON], tuple[str, JSON]] | None = None
    fingerprint: Callable[[LiveSpace | None], JSON] | None = None


# --- scalar settings ------------------------------------------------------------------------------


def live_hardware(live: LiveSpace) -> str | None:
    """The flavour the manifest is compared with: the one requested (what runs once a rebuild
    finishes), else the one running."""
    return live.requested_hardware or live.current_hardware


def live_sleep_time(live: LiveSpace) -> int:
    """The Hub reports `gcTimeout: null` for a Space that never sleeps (paid hardware by
    default, or after `sleep_time: -1`); the manifest spells that -1."""
    return -1 if live.sleep_time is None else live.sleep_time


def _given(value: JSON) -> JSON:
    return UNMANAGED if value is None else value


def _sdk_scope(have: JSON, want: JSON, ctx: SpaceContext) -> JSON:
    # A Space whose SDK the Hub does not report is not diffed on it.
    return want if have is None else have


def _desired_sleep_time(ctx: SpaceContext) -> JSON:
    spec = ctx.spec
    assert spec is not None
    hardware = spec.hardware or (live_hardware(ctx.live) if ctx.live else None)
    if spec.sleep_time is not None and hardware == FREE_HARDWARE:
        # The manifest refuses this when it names the hardware; here the Hub's does.
        ctx.warnings.append(
            f"{spec.id}: runs on {FREE_HARDWARE}, which always sleeps after 48 h; sleep_time "
            f"{spec.sleep_time} is ignored until the Space gets upgraded hardware"
        )
        return UNMANAGED
    return _given(spec.sleep_time)


def _hardware_operations(
    fields: tuple[FieldChange, ...], want: JSON, ctx: SpaceContext
) -> list[Operation]:
    # One request carries a changed sleep time too: one call, one restart.
    sleep = ctx.desired.get("sleep_time") if ctx.changed("sleep_time") else None
    return [SetHardware(want, sleep)]


def _sleep_operations(
    fields: tuple[FieldChange, ...], want: JSON, ctx: SpaceContext
) -> list[Operation]:
    return [] if ctx.changed("hardware") else [SetHardware(None, want)]


# --- variables ------------------------------------------------------------------------------------


def _desired_variables(ctx: SpaceContext) -> JSON:
    spec = ctx.spec
    assert spec is not None
    return dict(spec.variables) if spec.variables or spec.prune else UNMANAGED


def _live_variables(live: LiveSpace) -> JSON:
    return {k: v.value for k, v in (live.variables or {}).items()}


def _only_listed_keys(have: JSON, want: JSON, ctx: SpaceContext) -> JSON:
    """Keys the manifest does not list are left alone, unless the entry prunes them."""
    if ctx.spec is not None and ctx.spec.prune:
        return have
    return {k: v for k, v in have.items() if k in want}


def _variable_operations(
    fields: tuple[FieldChange, ...], want: JSON, ctx: SpaceContext
) -> list[Operation]:
    keys = [_top_key("variables", fc.path) for fc in fields]
    return [
        DeleteVariable(key) if fc.action is Action.DELETE else SetVariable(key, str(fc.after))
        for key, fc in zip(keys, fields, strict=True)
    ]


# --- secrets: write-only on the Hub, compared through spacectl's description marker --------------


def _desired_secrets(ctx: SpaceContext) -> JSON:
    spec, inputs = ctx.spec, ctx.inputs
    assert spec is not None and inputs is not None
    if not spec.secrets and not spec.prune:
        return UNMANAGED
    return {
        key: SecretWrite(
            key, secret.from_env, secret.description, inputs.secret_digests.get((spec.id, key))
        )
        for key, secret in spec.secrets.items()
    }


def _secret_diff(attr: Attribute, have: JSON, want: JSON, ctx: SpaceContext) -> list[FieldChange]:
    """A secret missing on the Hub is created; one that exists is written again for a reason
    `rewrite_reason` finds. Without the value here (`PlanInputs.unknown_secrets`) whatever can
    be told without it still counts, but a value change cannot be seen: the secret is shown as
    not verified and no write is planned (a plan made in a fork's pull request shows no false
    change, and the next plan made with the value finds any real one)."""
    changes = []
    unverifiable = []
    unverified: list[str] = []
    needed: list[str] = []
    unknown = ctx.inputs.unknown_secrets if ctx.inputs is not None else {}
    space_id = ctx.spec.id if ctx.spec is not None else ""
    manage = {k: s.manage for k, s in ctx.spec.secrets.items()} if ctx.spec is not None else {}
    for key, write in want.items():
        path = f"secrets.{key}"
        why = unknown.get((space_id, key), "")
        if key in have and manage.get(key) == "create_only":
            continue  # set once; then whoever rotates it owns it
        if is_ignored(path, ctx.ignore_changes):
            # Humans own it: say so when it differs, warn about nothing, write nothing.
            if key not in have or rewrite_reason(write, have[key]):
                ctx.ignored.append(path)
            continue
        if key not in have:
            reason = f"missing on the Hub; {why}: apply needs it" if why else "missing on the Hub"
            changes.append(FieldChange(path, Action.CREATE, sensitive=True, reason=reason))
            needed += [f"{key} ({why})"] if why else []
            continue
        reason = rewrite_reason(write, have[key])
        if reason and why:
            changes.append(
                FieldChange(path, Action.UPDATE, sensitive=True, reason=f"{reason}; {why}")
            )
            needed.append(f"{key} ({why})")
        elif reason:
            changes.append(
                FieldChange(path, Action.UPDATE, None, None, sensitive=True, reason=reason)
            )
        elif why:
            changes.append(
                FieldChange(path, Action.NOOP, sensitive=True, reason=f"not verified: {why}")
            )
            unverified.append(f"{key} ({why})")
        elif write.digest is None:
            unverifiable.append(key)
    if unverified:
        ctx.warnings.append(
            f"{space_id}: secret(s) {', '.join(unverified)} not verified: without the value "
            "this plan cannot tell whether it changed and plans no write for it; plan with the "
            "variable set to check it"
        )
    if needed:
        ctx.warnings.append(
            f"{space_id}: secret(s) {', '.join(needed)} must be written: apply refuses this "
            "Space until the variable is set"
        )
    if unverifiable and ctx.spec is not None:
        ctx.warnings.append(
            f"{ctx.spec.id}: cannot tell whether secret value(s) {', '.join(unverifiable)} "
            f"changed; set {SECRET_KEY_ENV} (any long random string kept in CI) to detect value "
            "changes"
        )
    if ctx.spec is not None and ctx.spec.prune:
        changes += [
            FieldChange(f"secrets.{key}", Action.DELETE, sensitive=True, reason="prune")
            for key in sorted(set(have) - set(want))
        ]
    return changes


def _secret_operations(
    fields: tuple[FieldChange, ...], want: JSON, ctx: SpaceContext
) -> list[Operation]:
    prefix = len("secrets.")
    return [
        DeleteSecret(fc.path[prefix:])
        if fc.action is Action.DELETE
        else SetSecret(want[fc.path[prefix:]])
        for fc in fields
        if fc.action is not Action.NOOP  # not verified: shown, never written
    ]


def _secret_stamps(live: LiveSpace | None) -> JSON:
    if live is None or live.secrets is None:
        return None
    return {k: s.updated_at.isoformat() if s.updated_at else None for k, s in live.secrets.items()}


# --- volumes --------------------------------------------------------------------------------------


def _volume_operations(
    fields: tuple[FieldChange, ...], want: JSON, ctx: SpaceContext
) -> list[Operation]:
    return [SetVolumes(tuple(want.values()))] if want else [DeleteVolumes()]


def _desired_volumes(ctx: SpaceContext) -> JSON:
    assert ctx.spec is not None
    return UNMANAGED if ctx.spec.volumes is None else volumes_by_mount(ctx.spec.volumes)


# --- card and files: carried by one commit ------------------------------------------------------


def _desired_card(ctx: SpaceContext) -> JSON:
    # In JSON form, as the Hub reports cardData (a YAML date is its ISO text there).
    assert ctx.spec is not None
    return card_fields(ctx.spec.card, json=True) or UNMANAGED


def _card_scope(have: JSON, want: JSON, ctx: SpaceContext) -> JSON:
    """Only the front-matter keys the manifest sets are compared."""
    return {k: have[k] for k in want if k in have}


def _desired_files(ctx: SpaceContext) -> JSON:
    spec, inputs, local = ctx.spec, ctx.inputs, ctx.local
    assert spec is not None and inputs is not None
    ctx.warnings.extend(app_warnings(spec, local))
    card = ctx.desired.get("card")
    if card is not None and card != card_fields(spec.card, json=True):
        # Ignored card keys keep the Hub's values in the README spacectl commits.
        spec = spec.model_copy(update={"card": CardSpec.model_validate(card)})
    # A duplicate keeps its template's README: the card is merged into it once it exists.
    copying = ctx.live is None and spec.template is not None
    readme = None if copying else desired_readme(spec, local, ctx.live)
    if local is None and readme is None:
        return UNMANAGED
    return planned_files(local or {}, readme, inputs.base_dir)


def _file_diff(attr: Attribute, have: JSON, want: JSON, ctx: SpaceContext) -> list[FieldChange]:
    live = ctx.live
    return tree_changes(
        want,
        have,
        readme_from_hub=live is not None and live.readme is not None,
        mirror=ctx.local is not None,
    )


def _file_operations(
    fields: tuple[FieldChange, ...], want: JSON, ctx: SpaceContext
) -> list[Operation]:
    prefix = len("files/")
    additions = tuple(want[fc.path[prefix:]] for fc in fields if fc.action is not Action.DELETE)
    deletions = tuple(fc.path[prefix:] for fc in fields if fc.action is Action.DELETE)
    parts = []
    if additions:
        parts.append(f"{len(additions)} added or changed")
    if deletions:
        parts.append(f"{len(deletions)} deleted")
    live = ctx.live
    return [
        Commit(
            live.sha if live else None,
            f"spacectl apply: {', '.join(parts)}",
            additions,
            deletions,
            mirror_new_space=live is None and ctx.local is not None,
        )
    ]


# --- the table ------------------------------------------------------------------------------------


def _setting(
    name: str,
    *,
    live: Callable[[LiveSpace], JSON],
    operations: Operations,
    stage: int,
    absent: JSON = None,
    desired: Callable[[SpaceContext], JSON] | None = None,
    create: bool = True,
    fingerprint: Callable[[LiveSpace | None], JSON] | None = None,
) -> Attribute:
    """A scalar setting of the SpaceSpec field `name`: managed when the entry sets it, passed to
    the create call under the same name (unless `create` is False), fingerprinted as read."""
    return Attribute(
        name,
        desired=desired or (lambda ctx: _given(getattr(ctx.spec, name))),
        live=live,
        absent=absent,
        operations=operations,
        stage=stage,
        create=(lambda want: (name, want)) if create else None,
        fingerprint=fingerprint or (lambda space: live(space) if space else None),
    )


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "sdk",
        desired=lambda ctx: _given(ctx.spec.sdk if ctx.spec else None),
        live=lambda space: space.sdk,
        absent=ABSENT,
        scope=_sdk_scope,
    ),
    _setting(
        "visibility",
        live=lambda space: space.visibility,
        absent=ABSENT,
        operations=lambda fields, want, ctx: [SetVisibility(want)],
        stage=STAGE_VISIBILITY,
    ),
    _setting(
        "hardware",
        live=live_hardware,
        operations=_hardware_operations,
        stage=STAGE_HARDWARE,
    ),
    _setting(
        "sleep_time",
        desired=_desired_sleep_time,
        live=live_sleep_time,
        operations=_sleep_operations,
        stage=STAGE_HARDWARE,
        # What the Hub reports (null: never sleeps), as saved plans have always recorded it.
        fingerprint=lambda space: space.sleep_time if space else None,
    ),
    _setting(
        "dev_mode",
        live=lambda space: space.dev_mode,
        absent=False,  # a new Space starts without dev mode
        operations=lambda fields, want, ctx: [SetDevMode(want)],
        stage=STAGE_HARDWARE,
        create=False,  # the create call takes no dev mode: set right after it
    ),
    Attribute(
        "volumes",
        desired=_desired_volumes,
        live=lambda space: volumes_by_mount(space.volumes),
        absent={},
        depth=2,
        operations=_volume_operations,
        stage=STAGE_VOLUMES,
        create=lambda want: ("volumes", tuple(want.values()) or None),
        fingerprint=lambda space: list(volumes_by_mount(space.volumes if space else ()).values()),
    ),
    Attribute(
        "variables",
        desired=_desired_variables,
        live=_live_variables,
        absent={},
        scope=_only_listed_keys,
        depth=1,
        removal_reason="prune",
        operations=_variable_operations,
        stage=STAGE_ENV,
        create=lambda want: ("variables", dict(want)),
        fingerprint=lambda space: (
            _live_variables(space) if space and space.variables is not None else None
        ),
    ),
    Attribute(
        "secrets",
        desired=_desired_secrets,
        live=lambda space: dict(space.secrets or {}),
        absent={},
        diff=_secret_diff,
        operations=_secret_operations,
        stage=STAGE_ENV,
        create=lambda want: ("secrets", tuple(want.values())),
        fingerprint=_secret_stamps,
    ),
    Attribute(
        "card",
        desired=_desired_card,
        live=lambda space: dict(space.card_data),
        absent={},
        scope=_card_scope,
        depth=1,
    ),
    Attribute(
        "files",
        desired=_desired_files,
        live=lambda space: dict(space.files or {}),
        absent={},
        diff=_file_diff,
        operations=_file_operations,
        stage=STAGE_FILES,
    ),
)


@dataclass(frozen=True)
class SpaceDiff:
    """The changes of one Space that exists or is to be created: fields in table order,
    operations in stage order, and the desired values of the managed attributes."""

    fields: tuple[FieldChange, ...]
    operations: tuple[Operation, ...]
    desired: Mapping[str, JSON]
    warnings: tuple[str, ...]
    ignored: tuple[str, ...] = ()


def _diff(ctx: SpaceContext, desired_of: Callable[[Attribute], JSON]) -> SpaceDiff:
    creating = ctx.live is None
    for attr in ATTRIBUTES:
        want = desired_of(attr)
        if want is UNMANAGED:
            continue
        have = attr.live(ctx.live) if ctx.live is not None else attr.absent
        ctx.desired[attr.name], ctx.changes[attr.name] = _changes(attr, have, want, ctx)
    ops: list[tuple[int, Operation]] = []
    for attr in ATTRIBUTES:
        fields = ctx.changes.get(attr.name)
        if not fields or (creating and attr.create is not None):
            continue  # nothing to do, or it rides in the create call
        ops += [(attr.stage, op) for op in attr.operations(fields, ctx.desired[attr.name], ctx)]
    ops.sort(key=lambda item: item[0])
    return SpaceDiff(
        fields=tuple(fc for attr in ATTRIBUTES for fc in ctx.changes.get(attr.name, ())),
        operations=tuple(op for _, op in ops),
        desired=dict(ctx.desired),
        warnings=tuple(ctx.warnings),
        ignored=tuple(ctx.ignored),
    )


def _changes(
    attr: Attribute, have: JSON, want: JSON, ctx: SpaceContext
) -> tuple[JSON, tuple[FieldChange, ...]]:
    """One attribute's desired value and field changes, `ignore_changes` applied: an ignored
    difference is recorded in `ctx.ignored`, not planned, and (for deepdiff's attributes) the
    desired value takes the Hub's there, so an operation writing the whole value keeps it."""
    scoped = attr.scope(have, want, ctx)
    fields = attr.diff(attr, scoped, want, ctx)
    patterns = ctx.ignore_changes
    ignored = [fc.path for fc in fields if is_ignored(fc.path, patterns)]
    if not ignored:
        return want, tuple(fields)
    ctx.ignored.extend(ignored)
    if attr.diff is deep_diff:
        want = hold(want, scoped, lambda parts: _path(attr.name, parts), patterns)
        fields = attr.diff(attr, scoped, want, ctx)
    return want, tuple(fc for fc in fields if not is_ignored(fc.path, patterns))


def diff_space(spec: SpaceSpec, live: LiveSpace | None, inputs: PlanInputs) -> SpaceDiff:
    """What differs between a present entry and its Space (None: the Space is to be created)."""
    ctx = SpaceContext(spec, live, inputs)
    return _diff(ctx, lambda attr: attr.desired(ctx))


def create_operation(sdk: str, diff: SpaceDiff) -> CreateSpace:
    """The create call, carrying every desired value an attribute can pass to it."""
    args = dict(
        attr.create(diff.desired[attr.name])
        for attr in ATTRIBUTES
        if attr.create is not None and attr.name in diff.desired
    )
    return CreateSpace(sdk=sdk, **args)
