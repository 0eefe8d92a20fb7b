"""`spacectl import`: manifest entries that describe live Spaces, merged into a manifest.

The live state is read by `hub/` and passed in; the YAML round trip is `manifest.py`'s. The
files import reads and writes (the manifest it merges into, the README of a source folder) are
handled here, at the end of the module.

The contract is "import, then plan shows no settings changes". So an entry holds exactly what
`plan` compares, spelled as the manifest spells it:
- `hardware` is the *requested* flavour; static Spaces get neither hardware nor sleep time.
- `sleep_time` is written only where it can be chosen: on free `cpu-basic` hardware the Hub fixes
  it at 48 h, so it is left out (unless a manifest default would otherwise impose another
  value); `null` from the Hub on paid hardware means "never" and is written `-1`.
- every secret becomes `{from_env: KEY}` (values cannot be read). Secrets set by hand carry no
  spacectl marker, so the first `plan` proposes setting each one once; that is expected.
- card fields are the Hub front-matter keys spacectl manages (`IMPORTED_CARD_KEYS`) whose value
  has the type the manifest expects; others are skipped with a note.

When merging into a manifest with `defaults`, an entry leaves out what the defaults already say,
and notes what the defaults would add that the live Space does not have.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacectl.attributes import (
    ATTRIBUTES,
    UNMANAGED,
    live_hardware,
    live_sleep_time,
)
from spacectl.card import README, readme_front_matter
from spacectl.environments import layered
from spacectl.errors import SpacectlError
from spacectl.fsio import os_reason, write_atomic
from spacectl.manifest import FREE_HARDWARE, VolumeSpec
from spacectl.manifest_loader import parse_manifest
from spacectl.secrets import imported_variable, parse_description
from spacectl.state import LiveSpace, LiveVolume
from spacectl.volumes import manifest_volume, volumes_by_mount
from spacectl.yamlio import (
    MergeResult,
    merge_spaces_into_manifest,
    new_manifest_text,
    read_manifest_document,
)

# The Space fields import writes: every managed attribute but the files (`source` is written only
# with --download). Everything else in an existing entry (`ignore`, `healthcheck`, `protect`,
# `prune`, `state`) is the user's and is never touched.
MANAGED_FIELDS = tuple(attr.name for attr in ATTRIBUTES if attr.name != "files")

_STR = "str"
_INT = "int"
_BOOL = "bool"
_STR_LIST = "list[str]"
# Front-matter keys import copies into `card`, with the type `manifest.CardSpec` declares.
IMPORTED_CARD_KEYS: dict[str, str] = {
    "title": _STR,
    "emoji": _STR,
    "colorFrom": _STR,
    "colorTo": _STR,
    "sdk_version": _STR,
    "python_version": _STR,
    "app_file": _STR,
    "app_port": _INT,
    "pinned": _BOOL,
    "license": _STR,
    "short_description": _STR,
    "tags": _STR_LIST,
    "models": _STR_LIST,
    "datasets": _STR_LIST,
}


@dataclass(frozen=True)
class ImportedSpace:
    """One manifest entry built from a live Space, and what the user should know about it."""

    space_id: str
    entry: dict[str, Any]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """The manifest text to write and a summary of the merge."""

    text: str
    merge: MergeResult
    notes: tuple[str, ...]
    secrets: tuple[str, ...]  # environment variables the imported secrets read


def entry_from_live(
    live: LiveSpace,
    *,
    source: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    existing: Mapping[str, Any] | None = None,
    readme_card: Mapping[str, Any] | None = None,
) -> ImportedSpace:
    """The manifest entry that describes `live`.

    `live` must carry variables and secrets (read them; None is treated as none). `source` is the
    folder the files were downloaded to, relative to the manifest. `defaults` is the manifest's
    `defaults:` as plain data: fields equal to it are left out. `existing` is the Space's entry
    already in the manifest: its secrets keep their `from_env` and `description`, and its volumes
    stay as written when they mean the same. `readme_card` is the front matter of the README.md in
    the Space's source folder: card keys it already holds with the live value are left out (the
    card is merged into that README, so repeating them would only duplicate it).
    """
    ctx = _ImportContext(live, defaults or {}, existing or {}, readme_card or {})
    entry: dict[str, Any] = {}
    for name in MANAGED_FIELDS:
        value = _IMPORTERS[name](ctx)
        if value is not UNMANAGED:
            entry[name] = value
    if source is not None:
        entry["source"] = source
    entry, default_notes = _relative_to_defaults(
        entry, ctx.defaults, ctx.existing, static=ctx.static
    )
    return ImportedSpace(live.id, entry, tuple(ctx.notes + default_notes))


@dataclass
class _ImportContext:
    live: LiveSpace
    defaults: Mapping[str, Any]
    existing: Mapping[str, Any]
    readme_card: Mapping[str, Any]
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def static(self) -> bool:
        return self.live.sdk == "static"


def _import_hardware(ctx: _ImportContext) -> Any:
    hardware = live_hardware(ctx.live)
    return UNMANAGED if ctx.static or hardware is None else hardware


def _import_sleep_time(ctx: _ImportContext) -> Any:
    hardware = live_hardware(ctx.live)
    if ctx.static or hardware is None:
        return UNMANAGED
    if hardware != FREE_HARDWARE:
        return live_sleep_time(ctx.live)
    # cpu-basic takes no sleep time: clear a default for this Space.
    return None if "sleep_time" in ctx.defaults else UNMANAGED


def _import_volumes(ctx: _ImportContext) -> Any:
    written = ctx.existing.get("volumes")
    if ctx.live.volumes and _same_volumes(written, ctx.live.volumes):
        return written
    if ctx.live.volumes:
        return [manifest_volume(v) for v in ctx.live.volumes]
    # The default list does not apply to this Space.
    return [] if ctx.defaults.get("volumes") else UNMANAGED


def _import_variables(ctx: _ImportContext) -> Any:
    spelled = ctx.existing.get("variables") or {}
    variables = {
        # Keep `WORKERS: 4` as written when the Hub holds "4": same value, no needless edit.
        key: spelled[key] if _variable_text(spelled.get(key)) == var.value else var.value
        for key, var in (ctx.live.variables or {}).items()
    }
    return variables or UNMANAGED


def _import_dev_mode(ctx: _ImportContext) -> Any:
    """Written when on, when the entry already manages it, or when a default would turn it on: a
    Space without dev mode needs no line to stay without it (static Spaces have none)."""
    said = "dev_mode" in ctx.existing or "dev_mode" in ctx.defaults
    if ctx.static or not (ctx.live.dev_mode or said):
        return UNMANAGED
    return ctx.live.dev_mode


def _import_card(ctx: _ImportContext) -> Any:
    card, skipped = _card(ctx.live.card_data)
    ctx.notes += [f"card key '{key}' not imported: {why}" for key, why in skipped]
    spelled = ctx.existing.get("card") or {}
    card = {
        key: value
        for key, value in card.items()
        if ctx.readme_card.get(key) != value or key in spelled
    }
    return card or UNMANAGED


# How import spells each managed attribute (UNMANAGED: leave it out of the entry). A test checks
# that every attribute of the table but the files has an importer.
_IMPORTERS: dict[str, Callable[[_ImportContext], Any]] = {
    "sdk": lambda ctx: UNMANAGED if ctx.live.sdk is None else ctx.live.sdk,
    "visibility": lambda ctx: ctx.live.visibility,
    "hardware": _import_hardware,
    "sleep_time": _import_sleep_time,
    "volumes": _import_volumes,
    "variables": _import_variables,
    "secrets": lambda ctx: _secrets(ctx.live, ctx.existing.get("secrets") or {}) or UNMANAGED,
    "card": _import_card,
    "dev_mode": _import_dev_mode,
}


def import_spaces(
    existing_text: str | None,
    spaces: Sequence[LiveSpace],
    *,
    owner: str,
    sources: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    header: Sequence[str] = (),
) -> ImportResult:
    """Merge entries for `spaces` into `existing_text` (a valid manifest), or into a new
    manifest of `owner` with `header` comment lines when it is None.

    `sources` maps Space ids to downloaded folders (relative to the manifest's folder
    `base_dir`). The only I/O: the README.md of each Space's source folder, when there is one, is
    read so that the card does not repeat its front matter."""
    text = existing_text if existing_text is not None else new_manifest_text(owner, header)
    doc = read_manifest_document(text)
    doc_owner = str(doc.get("owner") or owner)
    defaults = doc.get("defaults") or {}
    declared = {
        (key if "/" in key else f"{doc_owner}/{key}"): value or {}
        for key, value in (doc.get("spaces") or {}).items()
    }
    imported = []
    for live in spaces:
        existing = declared.get(live.id) or {}
        source = (sources or {}).get(live.id)
        folder = source or existing.get("source") or defaults.get("source")
        readme_card = (
            _source_front_matter(base_dir / str(folder)) if folder and base_dir is not None else {}
        )
        imported.append(
            entry_from_live(
                live, source=source, defaults=defaults, existing=existing, readme_card=readme_card
            )
        )
    merge = merge_spaces_into_manifest(
        text,
        [(item.space_id, item.entry) for item in imported],
        managed=(*MANAGED_FIELDS, "source") if sources else MANAGED_FIELDS,
    )
    notes = tuple(f"{item.space_id}: {note}" for item in imported for note in item.notes)
    env = sorted(
        {
            str(ref["from_env"])
            for item in imported
            for ref in (item.entry.get("secrets") or {}).values()
        }
    )
    return ImportResult(merge.text, merge, notes, tuple(env))


def import_into_environment(
    existing_text: str,
    spaces: Sequence[LiveSpace],
    *,
    environment: str,
    filename: str,
    base_dir: Path,
) -> ImportResult:
    """Write into `environments.<environment>.spaces` of the manifest `existing_text` what each
    live Space of that environment has that the manifest (its Space entry, `defaults` and the
    environment's `overrides`) does not say: afterwards `plan --env` shows no settings change.

    A live Space is matched to its entry through the environment's name pattern; one that is no
    Space of the environment is skipped with a note. Fields an override cannot take away (a
    variable the manifest has and the Space lacks) are noted, not written."""
    manifest = parse_manifest(
        existing_text, filename, base_dir=base_dir, check_sources=False, environment=environment
    )
    doc = read_manifest_document(existing_text)
    owner = str(doc["owner"])
    keys = list(doc.get("spaces") or {})
    env = (doc.get("environments") or {})[environment] or {}
    by_id = {spec.id.lower(): key for spec, key in zip(manifest.spaces, keys, strict=True)}
    entries: list[tuple[str, dict[str, Any]]] = []
    notes: list[str] = []
    for live in spaces:
        key = by_id.get(live.id.lower())
        if key is None:
            notes.append(f"{live.id}: not a Space of environment {environment}; skipped")
            continue
        own = (env.get("spaces") or {}).get(key) or {}
        base = layered(
            doc.get("defaults") or {},
            (doc.get("spaces") or {})[key] or {},
            env.get("overrides") or {},
        )
        folder = base.get("source")
        item = entry_from_live(
            live,
            existing=layered(base, own),
            readme_card=_source_front_matter(base_dir / str(folder)) if folder else {},
        )
        override, missing = _beyond(item.entry, base)
        notes += [f"{live.id}: {note}" for note in item.notes]
        notes += [
            f"{live.id}: the manifest sets {path}, which the Space lacks; an override cannot "
            "remove it"
            for path in missing
        ]
        entries.append((key if "/" in key else f"{owner}/{key}", override))
    merge = merge_spaces_into_manifest(
        existing_text,
        entries,
        managed=MANAGED_FIELDS,
        section=("environments", environment, "spaces"),
    )
    env_vars = sorted(
        {
            str(ref["from_env"])
            for _, entry in entries
            for ref in (entry.get("secrets") or {}).values()
        }
    )
    return ImportResult(merge.text, merge, tuple(notes), tuple(env_vars))


def _beyond(entry: Mapping[str, Any], base: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """What `entry` (a live Space, absolute) says beyond `base` (the manifest's layers below an
    environment's per-Space override), key by key for the merged mappings; and the keys of
    those mappings `base` has and `entry` lacks."""
    out: dict[str, Any] = {}
    missing: list[str] = []
    for field, value in entry.items():
        below = base.get(field)
        if field in ("variables", "secrets", "card") and isinstance(below, Mapping):
            if field == "variables":
                below = {k: _variable_text(v) for k, v in below.items()}
            own = {k: v for k, v in value.items() if below.get(k) != v}
            if own:
                out[field] = own
            missing += [f"{field}.{k}" for k in below if k not in value]
        elif value != below:
            out[field] = value
    return out, missing


def _source_front_matter(folder: Path) -> dict[str, Any]:
    """Front matter of `folder/README.md`; {} when there is none or it cannot be read (the plan
    reports an invalid README, import need not)."""
    try:
        return readme_front_matter((folder / README).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SpacectlError):
        return {}


def _same_volumes(written: Any, live: Sequence[LiveVolume]) -> bool:
    """Whether volumes as written in a manifest mean the live ones (the plan's comparison)."""
    if not isinstance(written, list):
        return False
    try:
        specs = [VolumeSpec.model_validate(item) for item in written]
    except ValueError:  # not valid volume entries: rewrite them from the Hub
        return False

    return volumes_by_mount(specs) == volumes_by_mount(live)


def _variable_text(value: Any) -> str | None:
    """A manifest variable value as the Hub stores it (the loader's conversion)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def _secrets(live: LiveSpace, declared: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for key, secret in (live.secrets or {}).items():
        before = declared.get(key)
        if isinstance(before, Mapping) and before.get("from_env"):
            ref = {"from_env": str(before["from_env"])}
            if before.get("description"):
                ref["description"] = str(before["description"])
        else:
            ref = {"from_env": imported_variable(live.id.split("/", 1)[1], key)}
            user_description, _ = parse_description(secret.description)
            if user_description:
                ref["description"] = user_description
        out[key] = ref
    return out


def _card(card_data: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    card: dict[str, Any] = {}
    skipped: list[tuple[str, str]] = []
    for key, kind in IMPORTED_CARD_KEYS.items():
        if key not in card_data or card_data[key] is None:
            continue
        value = card_data[key]
        if _has_type(value, kind):
            card[key] = list(value) if kind == _STR_LIST else value
        else:
            skipped.append((key, f"expected {kind}, the Hub has {value!r}"))
    for key in card_data:
        if key not in IMPORTED_CARD_KEYS and key != "sdk" and card_data[key] is not None:
            skipped.append(
                (
                    key,
                    "import writes only the common card keys; add it to `card:` "
                    "by hand to manage it",
                )
            )
    return card, skipped


def _has_type(value: Any, kind: str) -> bool:
    if kind == _STR:
        return isinstance(value, str)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _BOOL:
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _relative_to_defaults(
    entry: dict[str, Any],
    defaults: Mapping[str, Any],
    existing: Mapping[str, Any],
    *,
    static: bool,
) -> tuple[dict[str, Any], list[str]]:
    """Leave out what `defaults` already says (unless the existing entry spells it out itself:
    an import does not rewrite what is already right); note what defaults would add."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    for field, value in entry.items():
        default = defaults.get(field)
        if field in ("variables", "secrets", "card") and isinstance(default, Mapping):
            spelled = existing.get(field) or {}
            own = {k: v for k, v in value.items() if default.get(k) != v or k in spelled}
            if own:
                out[field] = own
        elif value != default or field not in defaults or field in existing:
            out[field] = value
    for field in ("variables", "secrets", "card"):
        default = defaults.get(field)
        if not isinstance(default, Mapping):
            continue
        extra = sorted(set(default) - set(entry.get(field) or {}))
        if extra:
            notes.append(
                f"defaults.{field} adds {', '.join(extra)}, which the Space does not have: "
                "`plan` will propose adding them"
            )
    for field in ("hardware", "sleep_time"):
        if field in defaults and field not in entry and not static:
            notes.append(f"defaults.{field} applies, but the Hub reports no {field} to compare")
    if "source" in defaults and "source" not in entry:
        notes.append(
            "defaults.source applies: `plan` will compare the Space's files with that folder"
        )
    return out, notes


def select_spaces(
    listed: Mapping[str, LiveSpace], owner: str, names: Sequence[str] | None
) -> list[str]:
    """The ids of the Spaces to import among `listed` (OWNER's Spaces visible to the token): all
    of them, or those `--space` names (`names`, each `name` or `owner/name`), without repeats.
    Raises when there are none, or when a named Space is not listed."""
    if not names:
        if not listed:
            raise SpacectlError(
                f"{owner} has no Spaces visible to this token",
                hint="check the owner's name, and that the token can read its private Spaces",
            )
        return sorted(listed)
    wanted = [name if "/" in name else f"{owner}/{name}" for name in names]
    # The Hub's names are case-insensitive: `--space docs` selects `Docs`.
    by_lower = {space_id.lower(): space_id for space_id in listed}
    missing = [sid for sid in wanted if sid.lower() not in by_lower]
    if missing:
        raise SpacectlError(
            f"no Space {', '.join(missing)} among the Spaces of {owner} visible to this token"
        )
    return list(dict.fromkeys(by_lower[sid.lower()] for sid in wanted))


def source_path(folder: Path, base_dir: Path) -> str:
    """`source` of a Space downloaded into `folder`, as a manifest in `base_dir` writes it
    (`./name`, or `../name` outside it)."""
    relative = Path(os.path.relpath(folder.resolve(), base_dir.resolve())).as_posix()
    return relative if relative.startswith("../") else f"./{relative}"


# --- the manifest file import merges into -------------------------------------------------------


def read_merge_target(output: Path) -> str | None:
    """The text of the manifest `import --output` merges into; None when it does not exist yet.
    A file that is not a valid manifest is refused (a `ManifestError` pointing at the line):
    import does not edit what it cannot read as one."""
    if not output.exists():
        return None
    try:
        existing = output.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpacectlError(f"cannot read {output}: {os_reason(exc)}") from None
    parse_manifest(existing, str(output), base_dir=output.parent, check_sources=False)
    return existing


def check_imported(text: str, output: Path | None, base_dir: Path) -> None:
    """Validate the manifest import made (named `output`, or `spaces.yaml` when printed) before
    it is printed or written: an invalid one is a bug, and must not replace a good file."""
    name = str(output) if output is not None else "spaces.yaml"
    parse_manifest(text, name, base_dir=base_dir, check_sources=False)


def write_merged(output: Path, text: str, existing: str | None) -> None:
    """Write the merged manifest to `output` when it differs from `existing`, atomically: an
    interrupted import leaves the old file."""
    if text == existing:
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise SpacectlError(
            f"cannot write {output}: {os_reason(exc)}",
            hint="pass --output a file in an existing, writable folder",
        ) from None
