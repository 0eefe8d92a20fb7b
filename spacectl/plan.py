"""The change model and `compute_plan()`: desired state + live state -> an immutable Plan.

Pure: no network, no filesystem, no environment. Everything the plan needs is passed in:
the manifest, the live state read by `hub.py`, the local file sets scanned by `files.py` and the
secret digests computed by `inputs.py`.

A Plan holds, per Space, a `SpaceChange` with
- `fields`: what a reviewer sees (Terraform's Before/After per attribute; secrets are `sensitive`
  and never carry a value), and
- `operations`: what `apply` executes, already in the safe order (create, visibility, variables
  and secrets, volumes, hardware and sleep time, one commit, deletion last), and
- `fingerprint`: the live state the plan was made from, so apply can refuse a stale plan.

Desired and live state are normalised to the same plain values before they are compared:
hardware is compared with the *requested* flavour, volumes as sorted plain dicts, files by git blob
SHA-1 (or SHA-256 when the Hub stores the file as LFS). The runtime stage never makes a diff.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args, get_type_hints

from deepdiff import DeepDiff

from spacectl.card import card_fields, readme_front_matter, render_readme
from spacectl.errors import ManifestError, PlanFileError
from spacectl.files import LocalFile
from spacectl.manifest import FREE_HARDWARE, Manifest, SpaceSpec, VolumeSpec
from spacectl.secrets import SECRET_KEY_ENV, edited_outside, parse_description
from spacectl.state import LiveFile, LiveSpace, LiveVolume

FORMAT_VERSION = "1"
PROTECTED_FILES = frozenset({".gitattributes", "README.md"})
JSON: TypeAlias = Any


class Action(str, enum.Enum):
    """What apply does to one object. The values are the JSON spelling."""

    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class _Absent:
    """Marks a value that does not exist on one side of a FieldChange (JSON: omitted)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class FieldChange:
    """One attribute that differs. `before`/`after` are ABSENT when the attribute is created or
    removed. A sensitive change never carries a value: both sides are ABSENT or None."""

    path: str
    action: Action
    before: JSON = ABSENT
    after: JSON = ABSENT
    sensitive: bool = False
    reason: str = ""


# --- operations: what apply executes --------------------------------------------------------------


@dataclass(frozen=True)
class SecretWrite:
    """A secret to set. The value is read from `from_env` at apply time; `digest` (when the
    HMAC key is set) lets apply check the value is still the one that was planned."""

    key: str
    from_env: str
    description: str | None
    digest: str | None


@dataclass(frozen=True)
class FileAdd:
    """A file to upload. `source` is a file on disk; `content` is generated text (README.md)."""

    path: str
    size: int
    blob_id: str
    sha256: str
    source: str | None = None
    content: str | None = None


@dataclass(frozen=True)
class CreateSpace:
    kind: Literal["create_space"]
    sdk: str
    visibility: str | None
    hardware: str | None
    sleep_time: int | None
    variables: Mapping[str, str]
    secrets: tuple[SecretWrite, ...]
    volumes: tuple[Mapping[str, JSON], ...] | None


@dataclass(frozen=True)
class SetVisibility:
    kind: Literal["set_visibility"]
    visibility: str


@dataclass(frozen=True)
class SetVariable:
    kind: Literal["set_variable"]
    key: str
    value: str


@dataclass(frozen=True)
class DeleteVariable:
    kind: Literal["delete_variable"]
    key: str


@dataclass(frozen=True)
class SetSecret:
    kind: Literal["set_secret"]
    secret: SecretWrite


@dataclass(frozen=True)
class DeleteSecret:
    kind: Literal["delete_secret"]
    key: str


@dataclass(frozen=True)
class SetVolumes:
    kind: Literal["set_volumes"]
    volumes: tuple[Mapping[str, JSON], ...]


@dataclass(frozen=True)
class DeleteVolumes:
    kind: Literal["delete_volumes"]


@dataclass(frozen=True)
class SetHardware:
    """`hardware` None means only the sleep time changes (set_space_sleep_time)."""

    kind: Literal["set_hardware"]
    hardware: str | None
    sleep_time: int | None


@dataclass(frozen=True)
class Commit:
    """One commit carrying every planned file change. `parent` is the head the plan saw
    (None for a Space created by this plan: apply uses the head right after the create).

    `mirror_new_space`: the Space is created by this plan and its files mirror a source folder,
    so the files the Hub's Space template adds (a static Space's index.html and style.css) are
    deleted in the same commit unless the folder has them. The plan cannot list them: the Space
    does not exist yet. `.gitattributes` and README.md are kept."""

    kind: Literal["commit"]
    parent: str | None
    message: str
    additions: tuple[FileAdd, ...]
    deletions: tuple[str, ...]
    mirror_new_space: bool = False


@dataclass(frozen=True)
class DeleteSpace:
    kind: Literal["delete_space"]


Operation: TypeAlias = (
    CreateSpace
    | SetVisibility
    | SetVariable
    | DeleteVariable
    | SetSecret
    | DeleteSecret
    | SetVolumes
    | DeleteVolumes
    | SetHardware
    | Commit
    | DeleteSpace
)


@dataclass(frozen=True)
class Fingerprint:
    """Live values the plan was computed from; apply re-reads and compares before writing.
    `variables`/`secrets` are None when the plan did not read them (the entry manages none)."""

    exists: bool
    sha: str | None = None
    visibility: str | None = None
    hardware: str | None = None
    sleep_time: int | None = None
    volumes: tuple[Mapping[str, JSON], ...] = ()
    variables: Mapping[str, str] | None = None
    secrets: Mapping[str, str | None] | None = None


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


@dataclass(frozen=True)
class Plan:
    """Immutable result of compute_plan; the only input of apply."""

    changes: tuple[SpaceChange, ...]
    manifest_path: str
    manifest_digest: str
    endpoint: str
    created_at: str
    format_version: str = FORMAT_VERSION

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


@dataclass(frozen=True)
class PlanInputs:
    """Everything compute_plan needs besides the manifest and live state.

    `files`: per Space id, the local file set (None when the Space has no `source`).
    `secret_digests`: per (space id, key), the HMAC digest of the value, or None without a key.
    `manifest_path`: the manifest as the user named it (relative to the working directory);
    `base_dir`: the manifest's folder, which file paths in the plan are relative to.
    """

    files: Mapping[str, Mapping[str, LocalFile] | None]
    secret_digests: Mapping[tuple[str, str], str | None]
    manifest_digest: str
    endpoint: str
    created_at: str
    manifest_path: str
    base_dir: Path
    targets: frozenset[str] | None = None


def volume_dict(volume: VolumeSpec | LiveVolume) -> dict[str, JSON]:
    """The Hub's JSON shape of a volume, normalised: `readOnly` is always present with the Hub's
    default (repositories are forced read-only, buckets default to read-write), other unset
    optional fields are dropped."""
    data: dict[str, JSON] = {
        "type": volume.type,
        "source": volume.source,
        "mountPath": volume.mount_path,
    }
    if volume.revision is not None:
        data["revision"] = volume.revision
    data["readOnly"] = True if volume.type != "bucket" else bool(volume.read_only)
    if volume.path is not None:
        data["path"] = volume.path
    return data


def _volumes(volumes: Iterable[VolumeSpec | LiveVolume]) -> tuple[dict[str, JSON], ...]:
    return tuple(sorted((volume_dict(v) for v in volumes), key=lambda d: str(d["mountPath"])))


def live_sleep_time(live: LiveSpace) -> int:
    """The Hub reports `gcTimeout: null` for a Space that never sleeps (paid hardware by
    default, or after `sleep_time: -1`); the manifest spells that -1."""
    return -1 if live.sleep_time is None else live.sleep_time


def _essence_settings(
    spec: SpaceSpec, live: LiveSpace | None
) -> tuple[dict[str, JSON], dict[str, JSON]]:
    """Project the managed settings of both sides onto the same plain dicts."""
    desired: dict[str, JSON] = {}
    current: dict[str, JSON] = {}
    if spec.visibility is not None:
        desired["visibility"] = spec.visibility
        current["visibility"] = live.visibility if live else ABSENT
    if spec.hardware is not None:
        desired["hardware"] = spec.hardware
        current["hardware"] = live_hardware(live) if live else None
    if spec.sleep_time is not None:
        desired["sleep_time"] = spec.sleep_time
        current["sleep_time"] = live_sleep_time(live) if live else None
    if spec.volumes is not None:
        desired["volumes"] = list(_volumes(spec.volumes))
        current["volumes"] = list(_volumes(live.volumes)) if live else []
    return desired, current


def _diff_settings(desired: dict[str, JSON], current: dict[str, JSON]) -> list[FieldChange]:
    """One FieldChange per managed setting whose normalised value differs (in manifest order)."""
    changed = DeepDiff(current, desired).affected_root_keys
    changes = []
    for key in desired:
        if key not in changed:
            continue
        before = current.get(key)
        if key == "volumes" and desired[key] == []:
            action = Action.DELETE
        elif before in (None, [], ABSENT):
            action = Action.CREATE
        else:
            action = Action.UPDATE
        changes.append(FieldChange(key, action, before=before, after=desired[key]))
    return changes


def _variable_changes(
    spec: SpaceSpec, live: LiveSpace | None
) -> tuple[list[FieldChange], list[Operation]]:
    current = {k: v.value for k, v in (live.variables or {}).items()} if live else {}
    fields: list[FieldChange] = []
    ops: list[Operation] = []
    for key, value in spec.variables.items():
        if key not in current:
            fields.append(FieldChange(f"variables.{key}", Action.CREATE, after=value))
            ops.append(SetVariable("set_variable", key, value))
        elif current[key] != value:
            fields.append(
                FieldChange(f"variables.{key}", Action.UPDATE, before=current[key], after=value)
            )
            ops.append(SetVariable("set_variable", key, value))
    if spec.prune:
        for key in sorted(set(current) - set(spec.variables)):
            fields.append(
                FieldChange(f"variables.{key}", Action.DELETE, before=current[key], reason="prune")
            )
            ops.append(DeleteVariable("delete_variable", key))
    return fields, ops


def _secret_changes(
    spec: SpaceSpec, live: LiveSpace | None, inputs: PlanInputs
) -> tuple[list[FieldChange], list[Operation], list[str]]:
    current = dict(live.secrets or {}) if live else {}
    fields: list[FieldChange] = []
    ops: list[Operation] = []
    warnings: list[str] = []
    unverifiable: list[str] = []
    for key, secret in spec.secrets.items():
        digest = inputs.secret_digests.get((spec.id, key))
        write = SecretWrite(key, secret.from_env, secret.description, digest)
        path = f"secrets.{key}"
        if key not in current:
            fields.append(
                FieldChange(path, Action.CREATE, sensitive=True, reason="missing on the Hub")
            )
            ops.append(SetSecret("set_secret", write))
            continue
        live_secret = current[key]
        user_description, marker = parse_description(live_secret.description)
        reason = ""
        if marker is None:
            reason = "not written by spacectl; its value cannot be verified"
        elif edited_outside(marker, live_secret.updated_at):
            reason = "changed on the Hub outside spacectl"
        elif digest is not None and marker.digest is not None and marker.digest != digest:
            reason = f"value of ${secret.from_env} changed"
        elif digest is not None and marker.digest is None:
            reason = "written without a secret key; its value cannot be verified"
        elif (user_description or None) != (secret.description or None):
            reason = "description changed"
        elif digest is None:
            unverifiable.append(key)
        if reason:
            fields.append(
                FieldChange(
                    path, Action.UPDATE, before=None, after=None, sensitive=True, reason=reason
                )
            )
            ops.append(SetSecret("set_secret", write))
    if unverifiable:
        warnings.append(
            f"{spec.id}: cannot tell whether secret value(s) {', '.join(unverifiable)} changed; "
            f"set {SECRET_KEY_ENV} (any long random string kept in CI) to detect value changes"
        )
    if spec.prune:
        for key in sorted(set(current) - set(spec.secrets)):
            fields.append(
                FieldChange(f"secrets.{key}", Action.DELETE, sensitive=True, reason="prune")
            )
            ops.append(DeleteSecret("delete_secret", key))
    return fields, ops, warnings


def readme_out_of_date(spec: SpaceSpec, live: LiveSpace) -> bool:
    """Whether the live README front matter lacks a card field or the SDK the manifest sets."""
    wanted = card_fields(spec.card)
    if spec.sdk is not None:
        wanted["sdk"] = spec.sdk
    return any(live.card_data.get(k) != v for k, v in wanted.items())


def desired_readme(
    spec: SpaceSpec, local: Mapping[str, LocalFile] | None, live: LiveSpace | None
) -> str | None:
    """README.md text spacectl must commit when the manifest manages the card or SDK and the
    source folder has no README of its own (with one, `files.py` already merged it).

    For an existing Space the card is merged into the remote README (`live.readme`), and only
    when its front matter differs. A new Space gets a README generated from the card; without a
    card, the README the Hub writes at creation already carries the SDK."""
    if local is not None and "README.md" in local:
        return None
    card = card_fields(spec.card)
    if live is None:
        return render_readme(None, card, spec.sdk, name=spec.name) if card else None
    if not readme_out_of_date(spec, live):
        return None
    return render_readme(live.readme, card, spec.sdk, name=live.name)


def _portable(path: Path, base: Path) -> str:
    """A file's path relative to the manifest's folder (POSIX), so a saved plan applies from
    another checkout of the same repository; absolute when the file lies outside it."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _file_changes(
    spec: SpaceSpec,
    local: Mapping[str, LocalFile] | None,
    readme: str | None,
    live: LiveSpace | None,
    base: Path,
) -> tuple[list[FieldChange], list[FileAdd], list[str]]:
    desired: dict[str, FileAdd] = {}
    for path, lf in (local or {}).items():
        content = lf.content.decode() if lf.content is not None else None
        desired[path] = FileAdd(
            path,
            lf.size,
            lf.blob_id,
            lf.sha256,
            source=_portable(lf.source_path, base) if lf.source_path else None,
            content=content,
        )
    if readme is not None:
        desired["README.md"] = readme_add(readme)
    remote: Mapping[str, LiveFile] = (live.files or {}) if live else {}
    fields: list[FieldChange] = []
    additions: list[FileAdd] = []
    for path in sorted(desired):
        want = desired[path]
        have = remote.get(path)
        if have is None and path == "README.md" and live is not None and live.readme is not None:
            fields.append(
                FieldChange(
                    "files/README.md",
                    Action.UPDATE,
                    before="front matter differs",
                    after=_file_summary(want),
                )
            )
            additions.append(want)
        elif have is None:
            fields.append(FieldChange(f"files/{path}", Action.CREATE, after=_file_summary(want)))
            additions.append(want)
        elif not _same_file(want, have):
            fields.append(
                FieldChange(
                    f"files/{path}",
                    Action.UPDATE,
                    before=_live_summary(have),
                    after=_file_summary(want),
                )
            )
            additions.append(want)
    deletions: list[str] = []
    if local is not None:
        for path in sorted(set(remote) - set(desired)):
            if path in PROTECTED_FILES:
                continue
            fields.append(
                FieldChange(f"files/{path}", Action.DELETE, before=_live_summary(remote[path]))
            )
            deletions.append(path)
    return fields, additions, deletions


def readme_add(text: str) -> FileAdd:
    """A FileAdd for generated README text, hashed like every other file."""
    lf = LocalFile.from_bytes("README.md", text.encode())
    return FileAdd(lf.path, lf.size, lf.blob_id, lf.sha256, content=text)


def _same_file(want: FileAdd, have: LiveFile) -> bool:
    if have.lfs_sha256 is not None:
        return have.lfs_sha256 == want.sha256
    return have.blob_id == want.blob_id


def _file_summary(f: FileAdd) -> str:
    return f"{f.size} bytes, sha1 {f.blob_id[:10]}"


def _live_summary(f: LiveFile) -> str:
    digest = f"sha256 {f.lfs_sha256[:10]}" if f.lfs_sha256 else f"sha1 {f.blob_id[:10]}"
    return f"{f.size} bytes, {digest}"


def _app_warnings(spec: SpaceSpec, local: Mapping[str, LocalFile] | None) -> list[str]:
    """Checks a careful engineer would make before pushing code that will not build."""
    if local is None or spec.state == "absent":
        return []
    warnings = []
    if spec.sdk == "docker" and "Dockerfile" not in local:
        warnings.append(
            f"{spec.id}: Docker Space without a Dockerfile in {spec.source}: the Hub will report "
            "NO_APP_FILE; add a Dockerfile (run `spacectl doctor` for details)"
        )
    if spec.sdk in ("gradio", "streamlit"):
        app_file = (spec.card.app_file if spec.card else None) or _front_matter_app_file(local)
        app_file = app_file or "app.py"
        if app_file not in local:
            warnings.append(
                f"{spec.id}: {spec.sdk} Space without its app file {app_file!r} in {spec.source}: "
                "the Hub will report NO_APP_FILE"
            )
    return warnings


def _front_matter_app_file(local: Mapping[str, LocalFile]) -> str | None:
    value = _local_front_matter(local).get("app_file")
    return str(value) if value else None


def _local_front_matter(local: Mapping[str, LocalFile] | None) -> dict[str, Any]:
    """Front matter of the README that will be committed (held in memory by inputs.scan_all)."""
    readme = (local or {}).get("README.md")
    if readme is None or readme.content is None:
        return {}
    return readme_front_matter(readme.content.decode(errors="replace"))


def live_hardware(live: LiveSpace) -> str | None:
    """The flavour the manifest is compared with: the one requested (what runs once a rebuild
    finishes), else the one running."""
    return live.requested_hardware or live.current_hardware


def create_fixes(op: CreateSpace, live: LiveSpace) -> tuple[Operation, ...]:
    """The operations that set what a create call asked for but the new Space (read back) does
    not have; the same normalisation as `compute_plan`, so apply runs no diff of its own."""
    fixes: list[Operation] = []
    if op.visibility is not None and live.visibility != op.visibility:
        fixes.append(SetVisibility("set_visibility", op.visibility))
    variables = {k: v.value for k, v in (live.variables or {}).items()}
    fixes += [
        SetVariable("set_variable", k, v) for k, v in op.variables.items() if variables.get(k) != v
    ]
    fixes += [SetSecret("set_secret", s) for s in op.secrets if s.key not in (live.secrets or {})]
    if op.volumes and _volumes(live.volumes) != tuple(op.volumes):
        fixes.append(SetVolumes("set_volumes", op.volumes))
    if op.hardware is not None and live_hardware(live) != op.hardware:
        fixes.append(SetHardware("set_hardware", op.hardware, op.sleep_time))
    elif op.sleep_time is not None and live_sleep_time(live) != op.sleep_time:
        fixes.append(SetHardware("set_hardware", None, op.sleep_time))
    return tuple(fixes)


def fingerprint(live: LiveSpace | None) -> Fingerprint:
    """The live values a plan depends on; reads that were not made stay None."""
    if live is None:
        return Fingerprint(exists=False)
    return Fingerprint(
        exists=True,
        sha=live.sha,
        visibility=live.visibility,
        hardware=live_hardware(live),
        sleep_time=live.sleep_time,
        volumes=_volumes(live.volumes),
        variables=(
            {k: v.value for k, v in live.variables.items()} if live.variables is not None else None
        ),
        secrets=(
            {
                k: (s.updated_at.isoformat() if s.updated_at else None)
                for k, s in live.secrets.items()
            }
            if live.secrets is not None
            else None
        ),
    )


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
            (DeleteSpace("delete_space"),),
            seen,
            sdk=live.sdk,
            reason="state: absent",
        )

    local = inputs.files.get(spec.id)
    warnings = _app_warnings(spec, local)
    fields: list[FieldChange] = []
    ops: list[Operation] = []

    hardware = spec.hardware or (live_hardware(live) if live else None)
    if spec.sleep_time is not None and hardware == FREE_HARDWARE:
        # The manifest refuses this when it names the hardware; here the Hub's does.
        warnings.append(
            f"{spec.id}: runs on {FREE_HARDWARE}, which always sleeps after 48 h; sleep_time "
            f"{spec.sleep_time} is ignored until the Space gets upgraded hardware"
        )
        spec = spec.model_copy(update={"sleep_time": None})
    desired_settings, current_settings = _essence_settings(spec, live)
    setting_fields = _diff_settings(desired_settings, current_settings)
    var_fields, var_ops = _variable_changes(spec, live)
    secret_fields, secret_ops, secret_warnings = _secret_changes(spec, live, inputs)
    warnings.extend(secret_warnings)
    readme = desired_readme(spec, local, live)
    file_fields, additions, deletions = _file_changes(spec, local, readme, live, inputs.base_dir)

    if live is None:
        sdk = spec.sdk or _sdk_from_local(local)
        if not sdk:
            raise ManifestError(
                "required to create the Space (it does not exist on the Hub yet)",
                where=f"spaces.{spec.id}.sdk",
            )
        create = CreateSpace(
            "create_space",
            sdk=sdk,
            visibility=spec.visibility,
            hardware=spec.hardware,
            sleep_time=spec.sleep_time,
            variables=dict(spec.variables),
            secrets=tuple(op.secret for op in secret_ops if isinstance(op, SetSecret)),
            volumes=_volumes(spec.volumes) if spec.volumes else None,
        )
        fields.append(FieldChange("space", Action.CREATE, after=spec.id))
        if spec.sdk:
            fields.append(FieldChange("sdk", Action.CREATE, after=spec.sdk))
        fields.extend(setting_fields)
        fields.extend(var_fields)
        fields.extend(secret_fields)
        ops.append(create)
        if additions or deletions:
            fields.extend(file_fields)
            ops.append(_commit(None, additions, deletions, mirror=local is not None))
        return SpaceChange(
            spec.id,
            Action.CREATE,
            tuple(fields),
            tuple(ops),
            seen,
            sdk=sdk,
            warnings=tuple(warnings),
        )

    if spec.sdk is not None and live.sdk is not None and spec.sdk != live.sdk:
        fields.append(FieldChange("sdk", Action.UPDATE, before=live.sdk, after=spec.sdk))
    fields.extend(setting_fields)
    for fc in setting_fields:
        if fc.path == "visibility":
            ops.append(SetVisibility("set_visibility", str(fc.after)))
    fields.extend(var_fields)
    ops.extend(var_ops)
    fields.extend(secret_fields)
    ops.extend(secret_ops)
    for fc in setting_fields:
        if fc.path == "volumes":
            ops.append(
                SetVolumes("set_volumes", tuple(fc.after))
                if fc.after
                else DeleteVolumes("delete_volumes")
            )
    hw = next((fc for fc in setting_fields if fc.path == "hardware"), None)
    sleep = next((fc for fc in setting_fields if fc.path == "sleep_time"), None)
    if hw is not None:
        ops.append(SetHardware("set_hardware", str(hw.after), spec.sleep_time if sleep else None))
    elif sleep is not None:
        ops.append(SetHardware("set_hardware", None, int(sleep.after)))
    if additions or deletions:
        fields.extend(file_fields)
        ops.append(_commit(live.sha, additions, deletions))
    action = Action.UPDATE if ops else Action.NOOP
    return SpaceChange(
        spec.id,
        action,
        tuple(fields),
        tuple(ops),
        seen,
        sdk=live.sdk,
        warnings=tuple(warnings),
    )


def _sdk_from_local(local: Mapping[str, LocalFile] | None) -> str | None:
    value = _local_front_matter(local).get("sdk")
    return str(value) if value else None


def _commit(
    parent: str | None, additions: list[FileAdd], deletions: list[str], *, mirror: bool = False
) -> Commit:
    parts = []
    if additions:
        parts.append(f"{len(additions)} added or changed")
    if deletions:
        parts.append(f"{len(deletions)} deleted")
    message = f"spacectl apply: {', '.join(parts)}"
    return Commit("commit", parent, message, tuple(additions), tuple(deletions), mirror)


def matches_target(space_id: str, targets: frozenset[str] | None) -> bool:
    """`--target` accepts the full id or the bare name, in any letter case (as the Hub)."""
    if not targets:
        return True
    wanted = {target.lower() for target in targets}
    return space_id.lower() in wanted or space_id.split("/", 1)[1].lower() in wanted


def compute_plan(
    manifest: Manifest, live: Mapping[str, LiveSpace | None], inputs: PlanInputs
) -> Plan:
    """The changes that make the Hub match the manifest, per Space in manifest order.

    `live` maps every targeted Space id to its live state (None when absent or invisible).
    Spaces on the Hub that the manifest does not list are never touched.
    """
    changes = []
    for spec in manifest.spaces:
        if not matches_target(spec.id, inputs.targets):
            continue
        changes.append(_plan_space(spec, live.get(spec.id), inputs))
    # Deleting whole Spaces runs after every create and update.
    changes.sort(key=lambda c: c.action is Action.DELETE)
    return Plan(
        changes=tuple(changes),
        manifest_path=inputs.manifest_path,
        manifest_digest=inputs.manifest_digest,
        endpoint=inputs.endpoint,
        created_at=inputs.created_at,
    )


# --- serialisation: the JSON plan and saved plan files --------------------------------------------

# Each operation's JSON `kind` is the Literal of its `kind` field: derived, so a new operation
# needs no second registration.
_OP_TYPES: dict[str, type[Any]] = {
    get_args(get_type_hints(cls)["kind"])[0]: cls for cls in get_args(Operation)
}


def _jsonable(value: Any) -> JSON:
    if value is ABSENT:
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {name: _jsonable(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def field_to_dict(fc: FieldChange) -> dict[str, JSON]:
    data: dict[str, JSON] = {"path": fc.path, "action": fc.action.value}
    if fc.sensitive:
        data["sensitive"] = True
    else:
        if fc.before is not ABSENT:
            data["before"] = _jsonable(fc.before)
        if fc.after is not ABSENT:
            data["after"] = _jsonable(fc.after)
    if fc.reason:
        data["reason"] = fc.reason
    return data


def plan_to_dict(plan: Plan) -> dict[str, JSON]:
    """The JSON plan: the single source of every renderer and of saved plan files.

    Contains no secret value: sensitive fields carry neither before nor after, and secret
    operations carry only the environment variable's name and the keyed digest."""
    return {
        "format_version": plan.format_version,
        "manifest": plan.manifest_path,
        "manifest_digest": plan.manifest_digest,
        "endpoint": plan.endpoint,
        "created_at": plan.created_at,
        "summary": plan.counts(),
        "has_changes": not plan.is_empty,
        "warnings": list(plan.warnings),
        "spaces": [
            {
                "id": c.space_id,
                "action": c.action.value,
                "reason": c.reason,
                "sdk": c.sdk,
                "fields": [field_to_dict(fc) for fc in c.fields],
                "operations": [_jsonable(op) for op in c.operations],
                "fingerprint": _jsonable(c.fingerprint),
                "warnings": list(c.warnings),
            }
            for c in plan.changes
        ],
    }


def _field_from_dict(data: Mapping[str, JSON]) -> FieldChange:
    return FieldChange(
        path=data["path"],
        action=Action(data["action"]),
        before=data.get("before", ABSENT),
        after=data.get("after", ABSENT),
        sensitive=bool(data.get("sensitive", False)),
        reason=data.get("reason", ""),
    )


def _op_from_dict(data: Mapping[str, JSON]) -> Operation:
    kind = data["kind"]
    if kind not in _OP_TYPES:
        raise PlanFileError(f"unknown operation {kind!r} in plan file")
    args = dict(data)
    if kind == "create_space":
        args["secrets"] = tuple(SecretWrite(**s) for s in args["secrets"])
        args["volumes"] = tuple(args["volumes"]) if args["volumes"] is not None else None
    elif kind == "set_secret":
        args["secret"] = SecretWrite(**args["secret"])
    elif kind == "set_volumes":
        args["volumes"] = tuple(args["volumes"])
    elif kind == "commit":
        args["additions"] = tuple(FileAdd(**a) for a in args["additions"])
        if any((a.source is None) == (a.content is None) for a in args["additions"]):
            raise PlanFileError("a file in the plan has neither or both of source and content")
        args["deletions"] = tuple(args["deletions"])
    op: Operation = _OP_TYPES[kind](**args)
    return op


def plan_from_dict(data: Mapping[str, JSON]) -> Plan:
    """Rebuild a Plan from `plan_to_dict` output; raises PlanFileError when it is not one."""
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"plan file format {data.get('format_version')!r} is not supported "
            f"(expected {FORMAT_VERSION!r})",
            hint="run `spacectl plan --out FILE` again with this version of spacectl",
        )
    try:
        changes = tuple(
            SpaceChange(
                space_id=s["id"],
                action=Action(s["action"]),
                fields=tuple(_field_from_dict(f) for f in s["fields"]),
                operations=tuple(_op_from_dict(o) for o in s["operations"]),
                fingerprint=Fingerprint(
                    **{
                        **s["fingerprint"],
                        "volumes": tuple(s["fingerprint"]["volumes"]),
                    }
                ),
                sdk=s.get("sdk"),
                warnings=tuple(s.get("warnings", ())),
                reason=s.get("reason", ""),
            )
            for s in data["spaces"]
        )
        return Plan(
            changes=changes,
            manifest_path=data["manifest"],
            manifest_digest=data["manifest_digest"],
            endpoint=data["endpoint"],
            created_at=data["created_at"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"plan file is damaged or not a spacectl plan ({exc})") from None
