"""The manifest loader: YAML file -> `Manifest`, or a `ManifestError` saying FILE:LINE:COL.

First stage of the pipeline. No network and no environment: the only I/O is reading the file and
checking that `source` folders exist. Secrets' environment variables are not looked at here (a
plan without them still plans; `inputs` and `apply` deal with a missing value), so `validate`
runs without any secret. The YAML is parsed by `yamlio` (which knows where each key was written)
and checked against the models of `manifest.py`.

CONTRACT:
- `load_manifest(path) -> Manifest` validates strictly and raises `ManifestError` with
  `FILE:LINE:COL: where: what` for any problem (unknown key with "did you mean", wrong type,
  duplicate key, invalid name, variable/secret key clash, hardware on a static Space, missing
  `source` folder, literal secret value). When the checks found several problems the error is a
  `ManifestProblems`: its message is the first in file order, `problems` holds every one
  (`validate` prints them all; other commands stop at the first).
- `parse_manifest(text, ...)` does the same for text already read.

A separate module from `manifest.py` because the checks and the defaults merge are as long as
the models themselves; the models stay pydantic's only home.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacectl import environments, previews
from spacectl.errors import ManifestError, SourceLocation
from spacectl.ignoring import pattern_problem
from spacectl.manifest import (
    ENV_KEY_PATTERN,
    FREE_HARDWARE,
    CardSpec,
    DefaultsEntry,
    EntryFields,
    FileFormatError,
    Manifest,
    ManifestFile,
    PreviewSettings,
    SpaceEntry,
    SpaceSpec,
    allowed_keys,
    validate_file_format,
)
from spacectl.yamldoc import gc_paused
from spacectl.yamlio import (
    DuplicateKeyError,
    Loc,
    YamlDocument,
    YamlLimitError,
    YamlSyntaxError,
    kind_of,
    parse_document,
)

# Hub fields that make no sense without a running container.
_NOT_ON_STATIC = ("hardware", "sleep_time", "dev_mode")
# Entry fields a SpaceSpec takes as they are once defaults are merged (the others are shaped by
# the merge: sdk, volumes, variables, secrets, card, source, ignore, protect, prune, state).
_SETTINGS = ("visibility", "hardware", "sleep_time", "dev_mode")
_MAPPING_FIELDS = ("variables", "secrets", "card")
# A manifest of 5,000 Spaces is about 1 MiB; more is a mistake (or `-f /dev/zero`).
MAX_MANIFEST_BYTES = 8 << 20


# The hardware names a caller knows (the installed client's list), asked for only when some
# entry sets `hardware`: this module never imports the Hub client itself.
HardwareNames = Callable[[], Collection[str]]


def load_manifest(
    path: Path,
    *,
    check_sources: bool = True,
    environment: str | None = None,
    hardware: HardwareNames | None = None,
) -> Manifest:
    """Read and validate the manifest at `path`.

    `check_sources=False` skips the check that `source` folders exist (`doctor` reports every
    missing one itself instead of stopping at the first). `environment` (`--env`) resolves that
    entry of `environments:` into the Spaces (`spacectl.environments`). `hardware`, when given,
    is called once if an entry sets `hardware`, and a name it does not list is a problem ("did
    you mean"). Error messages show `path` exactly as given. Raises `ManifestError` for every
    problem; the file is read only up to `MAX_MANIFEST_BYTES`.
    """
    try:
        raw = _read_bounded(path)
    except FileNotFoundError:
        raise ManifestError(
            f"Manifest '{path}' not found.", hint="Pass the manifest file with -f FILE."
        ) from None
    except OSError as exc:
        raise ManifestError(f"Cannot read manifest '{path}': {exc.strerror}.") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"The manifest is larger than {MAX_MANIFEST_BYTES >> 20} MiB; spacectl reads no more.",
            location=SourceLocation(str(path), 1, 1),
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ManifestError(
            "The file is not UTF-8 text.", location=SourceLocation(str(path), line, 1)
        ) from None
    return parse_manifest(
        text,
        str(path),
        base_dir=path.parent,
        check_sources=check_sources,
        environment=environment,
        hardware=hardware,
    )


def _read_bounded(path: Path) -> bytes:
    """At most one byte more than `MAX_MANIFEST_BYTES` of `path`: a pipe, `/dev/stdin` or a
    device (`/dev/zero`, which never ends) is read like a file, but never without bound."""
    with path.open("rb") as stream:
        return stream.read(MAX_MANIFEST_BYTES + 1)


def parse_manifest(
    text: str,
    filename: str,
    *,
    base_dir: Path,
    check_sources: bool = True,
    environment: str | None = None,
    hardware: HardwareNames | None = None,
) -> Manifest:
    """Validate manifest `text`; `filename` is used in messages, `base_dir` resolves `source`.

    Reports the first problem in file order as a `ManifestError` (its hint counts the others;
    a `ManifestProblems` carries them all).
    """
    with gc_paused():  # the models of 5,000 Spaces are as many objects again as their YAML
        return _parse_manifest(
            text,
            filename,
            base_dir=base_dir,
            check_sources=check_sources,
            environment=environment,
            hardware=hardware,
        )


def _parse_manifest(
    text: str,
    filename: str,
    *,
    base_dir: Path,
    check_sources: bool,
    environment: str | None,
    hardware: HardwareNames | None,
) -> Manifest:
    try:
        document = parse_document(text)
    except YamlLimitError as exc:
        location = SourceLocation(filename, exc.line, exc.column)
        raise ManifestError(exc.message, location=location) from None
    except YamlSyntaxError as exc:
        raise ManifestError(
            f"Invalid YAML: {exc.message}", location=SourceLocation(filename, exc.line, exc.column)
        ) from None
    except DuplicateKeyError as exc:
        raise ManifestError(
            f"Duplicate key '{exc.key}' (first defined at line {exc.first_line}).",
            location=SourceLocation(filename, exc.line, exc.column),
            where=_dotted(exc.path),
        ) from None

    doc = document.data
    if doc is None:
        raise ManifestError(
            "The manifest is empty; expected a mapping with 'owner' and 'spaces'.",
            location=SourceLocation(filename, 1, 1),
        )
    if not isinstance(doc, dict):
        line, col = document.position(())
        raise ManifestError(
            f"Expected a mapping with 'owner' and 'spaces' at the top level, got {kind_of(doc)}.",
            location=SourceLocation(filename, line, col),
        )

    problems = _Problems(filename, document)
    _check_header(doc, problems)
    _check_literal_secrets(doc, problems)
    data = {k: v for k, v in doc.items() if not (isinstance(k, str) and k.startswith("x-"))}
    try:
        parsed = validate_file_format(data)
    except FileFormatError as exc:
        for error in exc.errors:
            problems.add_pydantic(error)
        problems.raise_first()
        raise  # a format error with no reportable problem is a bug in this module
    problems.raise_first()

    resolver = _Resolver(
        parsed,
        document,
        problems,
        base_dir=base_dir,
        check_sources=check_sources,
        hardware=hardware,
    )
    specs = resolver.resolve()
    problems.raise_first()
    if environment is not None:
        environments.environment_of(parsed, environment, filename)
    if parsed.previews is not None:
        problems.add(previews.pattern_problem(parsed.previews.name), ("previews", "name"))
    # Every environment is checked (validate reports a broken one before any --env uses it).
    for name in parsed.environments or {}:
        resolved = _environment_specs(resolver, name)
        specs = resolved if name == environment else specs
    problems.raise_first()
    return Manifest(
        version=1,
        owner=parsed.owner,
        path=(base_dir / Path(filename).name).resolve(),
        spaces=tuple(specs),
        digest=hashlib.sha256(text.encode()).hexdigest(),
        environment=environment,
        previews=parsed.previews or PreviewSettings(),
    )


def _environment_specs(base: _Resolver, name: str) -> list[SpaceSpec]:
    """The Spaces of environment `name`: its overrides laid over the entries, resolved as the
    manifest's own are, renamed; problems go to `base`'s collector."""
    parsed, problems = base.parsed, base.problems
    resolver = _Resolver(
        environments.overlay(
            parsed, name, problems.add, base._check_entry, base.document.number_text
        ),
        base.document,
        problems,
        base_dir=base.base_dir,
        check_sources=base.check_sources,
    )
    return environments.rename(resolver.resolve(), parsed, name, problems.add, _name_problem)


def _dotted(loc: Loc) -> str | None:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


@dataclass(frozen=True)
class _Problem:
    loc: Loc
    message: str
    line: int
    column: int
    missing: bool = False


class _Problems:
    """Collects problems, then raises the first one in file order."""

    def __init__(self, filename: str, document: YamlDocument) -> None:
        self.filename = filename
        self.document = document
        self.items: list[_Problem] = []
        self._reported: set[Loc] = set()  # the items' locs: a lookup per prefix, not per item

    def add(self, message: str, loc: Loc, *, missing: bool = False) -> None:
        if not message:
            return
        # One report per node: a pre-check and pydantic may both object to the same value.
        if any(loc[:end] in self._reported for end in range(len(loc) + 1)):
            return
        line, col = self.document.position(loc)
        self.items.append(_Problem(loc, message, line, col, missing))
        self._reported.add(loc)

    def add_pydantic(self, error: Mapping[str, Any]) -> None:
        loc: Loc = tuple(error["loc"])
        if loc and loc[-1] == "[key]":
            loc = self._written_key(loc[:-1])
        kind = error["type"]
        if kind == "missing":
            self.add("Required key is missing.", loc, missing=True)
            return
        if kind == "extra_forbidden":
            message = _unknown_key_message(loc)
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = "Expected a mapping."
        else:
            message = str(error["msg"])
            if not message.endswith((".", "?")):
                message += "."
        self.add(message, loc)

    def _written_key(self, loc: Loc) -> Loc:
        """`loc` of a bad mapping key with its last part as written: pydantic names a key that
        is not text (`? [a, b]`, `~`) by its `str()`, which the document does not know."""
        parent: Any = self.document.data
        for part in loc[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return loc
        if not isinstance(parent, dict) or loc[-1] in parent:
            return loc
        written = [key for key in parent if str(key) == loc[-1]]
        return (*loc[:-1], written[0]) if written else loc

    def raise_first(self) -> None:
        if not self.items:
            return
        # A missing key is reported last: it is often the consequence of a misspelt one.
        ordered = sorted(self.items, key=lambda p: (p.missing, p.line, p.column))
        errors = tuple(
            ManifestError(
                p.message,
                location=SourceLocation(self.filename, p.line, p.column),
                where=_dotted(p.loc),
            )
            for p in ordered
        )
        others = len(errors) - 1
        hint = (
            f"{others} more problem{'s' if others > 1 else ''} in this file; "
            "'spacectl validate' lists them all."
            if others
            else None
        )
        raise ManifestProblems(errors, hint=hint)


class ManifestProblems(ManifestError):
    """Every problem the checks found in one manifest, in file order (missing keys last).

    As a `ManifestError` it is the first of them with a hint counting the others, so a command
    that stops at the first problem needs nothing special; `validate` lists `problems`."""

    def __init__(self, problems: tuple[ManifestError, ...], *, hint: str | None) -> None:
        first = problems[0]
        super().__init__(first.reason, location=first.location, where=first.where, hint=hint)
        self.problems = problems


def _unknown_key_message(loc: Loc) -> str:
    key = str(loc[-1])
    parent = loc[:-1]
    if parent == ("defaults",) and key == "state":
        return "'state' cannot be a default; set it on each Space."
    allowed = allowed_keys(parent)
    match = difflib.get_close_matches(key, allowed, n=1)
    if match:
        return f"Unknown key '{key}'; did you mean '{match[0]}'?"
    if not allowed:  # a model this module cannot find: no list rather than an empty one
        return f"Unknown key '{key}'."
    suffix = " (top-level keys starting with 'x-' are free, e.g. for anchors)" if not parent else ""
    return f"Unknown key '{key}'; expected one of: {', '.join(allowed)}{suffix}."


def _check_header(doc: Mapping[Any, Any], problems: _Problems) -> None:
    """`version` and `owner` first: their pydantic messages ("Input should be 1") help nobody."""
    if "version" in doc:
        version = doc["version"]
        if isinstance(version, int) and not isinstance(version, bool):
            if version != 1:
                problems.add(
                    f"Unsupported manifest version {version}; this spacectl reads version 1.",
                    ("version",),
                )
        else:
            problems.add("Expected the number 1.", ("version",))
    if "owner" not in doc:
        problems.add(
            "Required key is missing; set it to the user or organisation that owns the Spaces.",
            ("owner",),
            missing=True,
        )
    elif isinstance(doc["owner"], str):
        problems.add(_name_problem(doc["owner"], "owner"), ("owner",))


def _check_literal_secrets(doc: Mapping[Any, Any], problems: _Problems) -> None:
    """A secret written as a value is refused before anything else looks at (or prints) it."""
    sections: list[tuple[Loc, Any]] = [(("defaults",), doc.get("defaults"))]
    spaces = doc.get("spaces")
    if isinstance(spaces, dict):
        sections += [(("spaces", key), entry) for key, entry in spaces.items()]
    sections += environments.environment_sections(doc)
    for section, entry in sections:
        node = entry.get("secrets") if isinstance(entry, dict) else None
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            loc = (*section, "secrets", key)
            if value is None:
                problems.add("Expected a mapping like {from_env: VAR}.", loc)
            elif not isinstance(value, (dict, list)):
                problems.add(
                    "Secret values are never written in the manifest; use {from_env: VAR} and "
                    "set VAR in the environment.",
                    loc,
                )


_NAME_RULES: tuple[tuple[str, str], ...] = (
    (r"^.{1,96}$", "must be 1 to 96 characters"),
    (r"^[A-Za-z0-9._-]*$", "may only contain letters, digits, '-', '_' and '.'"),
    (r"^(?!.*(--|\.\.))", "cannot contain '--' or '..'"),
    (r"^(?![-.]).*(?<![-.])$", "cannot start or end with '-' or '.'"),
    (r"^(?!.*\.git$)", "cannot end with '.git'"),
)


def hardware_problem(name: str, known: Collection[str], where: str = "") -> str:
    """The message for a hardware name outside `known` (with "did you mean"), '' when it is in
    it; `where` names the list (", which this Hub offers", say)."""
    if name in known:
        return ""
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f"did you mean '{match[0]}'?" if match else f"expected one of: {', '.join(known)}."
    return f"Unknown hardware '{name}'{where}; {hint}"


def _name_problem(name: str, what: str) -> str:
    """The first Hub naming rule `name` breaks, as a message; '' when it is valid."""
    for pattern, rule in _NAME_RULES:
        if not re.match(pattern, name, re.DOTALL):
            return f"Invalid {what} '{name}': {rule}."
    return ""


class _Resolver:
    """Merges defaults into each Space and runs the checks that need the whole picture."""

    def __init__(
        self,
        parsed: ManifestFile,
        document: YamlDocument,
        problems: _Problems,
        *,
        base_dir: Path,
        check_sources: bool = True,
        hardware: HardwareNames | None = None,
    ) -> None:
        self.parsed = parsed
        self.document = document
        self.problems = problems
        self.base_dir = base_dir
        self.check_sources = check_sources
        self._hardware = hardware
        self._hardware_names: Collection[str] | None = None

    def resolve(self) -> list[SpaceSpec]:
        defaults = self.parsed.defaults or DefaultsEntry()
        self._check_entry(defaults, ("defaults",))
        default_variables = self._variables(defaults.variables or {}, ("defaults", "variables"))
        seen: dict[str, str] = {}
        specs: list[SpaceSpec] = []
        for key, maybe_entry in self.parsed.spaces.items():
            entry = maybe_entry or SpaceEntry()
            loc: Loc = ("spaces", key)
            space_id = self._space_id(key, loc)
            # The Hub resolves names case-insensitively: `Demo` and `demo` are one Space.
            if space_id.lower() in seen:
                self.problems.add(
                    f"Space '{space_id}' is already declared as '{seen[space_id.lower()]}'.", loc
                )
            seen[space_id.lower()] = key
            self._check_entry(entry, loc)
            variables = self._variables(entry.variables or {}, (*loc, "variables"))
            specs.append(self._merge(space_id, entry, defaults, default_variables, variables, loc))
        return specs

    def _space_id(self, key: str, loc: Loc) -> str:
        owner, _, name = key.rpartition("/")
        if owner:
            self.problems.add(_name_problem(owner, "owner"), loc)
        self.problems.add(_name_problem(name, "Space name"), loc)
        return f"{owner or self.parsed.owner}/{name}"

    def _check_entry(self, entry: EntryFields, loc: Loc) -> None:
        """Checks on one entry as written (key patterns, ranges); merging is checked later."""
        for field in ("variables", "secrets"):
            for key in getattr(entry, field) or {}:
                if not re.match(ENV_KEY_PATTERN, key):
                    self.problems.add(
                        f"Invalid key '{key}': use letters, digits and '_', not starting with a "
                        "digit.",
                        (*loc, field, key),
                    )
        for key, secret in (entry.secrets or {}).items():
            if not re.match(ENV_KEY_PATTERN, secret.from_env):
                self.problems.add(
                    f"Invalid environment variable name '{secret.from_env}'.",
                    (*loc, "secrets", key, "from_env"),
                )
        for index, volume in enumerate(entry.volumes or ()):
            if not volume.mount_path.startswith("/"):
                self.problems.add(
                    f"mount_path must be absolute, e.g. '/{volume.mount_path}'.",
                    (*loc, "volumes", index, "mount_path"),
                )
        if entry.sleep_time is not None and entry.sleep_time != -1 and entry.sleep_time <= 0:
            self.problems.add(
                "Expected a positive number of seconds, or -1 to never sleep.",
                (*loc, "sleep_time"),
            )
        if entry.hardware is not None and self._hardware is not None:
            if self._hardware_names is None:
                self._hardware_names = self._hardware()
            if self._hardware_names:  # an empty list: the caller could not tell
                message = hardware_problem(entry.hardware, self._hardware_names)
                self.problems.add(message, (*loc, "hardware"))
        if entry.card is not None and "sdk" in (entry.card.model_extra or {}):
            self.problems.add("Set 'sdk' on the Space, not in its card.", (*loc, "card", "sdk"))
        _check_ignore_changes(entry, loc, self.problems)
        _check_template(entry, loc, self.problems)

    def _variables(self, values: Mapping[str, Any], loc: Loc) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in values.items():
            if isinstance(value, bool):
                out[key] = "true" if value else "false"
            elif isinstance(value, (int, float)):
                out[key] = self._number_text(value, (*loc, key))
            elif isinstance(value, str):
                out[key] = value
            else:
                self.problems.add(
                    f"Expected a string, number or boolean, got {kind_of(value)}.", (*loc, key)
                )
        return out

    def _number_text(self, value: float, loc: Loc) -> str:
        """The number as written (`1.10`, `007`), so that YAML does not silently rewrite it."""
        return self.document.number_text(loc, value) or str(value)

    def _merge(
        self,
        space_id: str,
        entry: SpaceEntry,
        defaults: DefaultsEntry,
        default_variables: dict[str, str],
        variables: dict[str, str],
        loc: Loc,
    ) -> SpaceSpec:
        own = entry.model_fields_set
        inherited = defaults.model_fields_set - own
        sdk = entry.sdk if "sdk" in own else defaults.sdk
        values: dict[str, Any] = {}
        for field in EntryFields.model_fields:
            if field in _MAPPING_FIELDS:
                continue
            if field in own:
                values[field] = getattr(entry, field)
            elif field in inherited and not (sdk == "static" and field in _NOT_ON_STATIC):
                # A default hardware/sleep_time is meant for Spaces that run; static ones skip it.
                values[field] = getattr(defaults, field)
        state = entry.state or "present"

        if sdk == "static":
            for field in _NOT_ON_STATIC:
                if values.get(field) is not None:
                    self.problems.add(
                        f"A static Space has no {field.replace('_', ' ')}; remove '{field}'.",
                        (*loc, field),
                    )
        elif values.get("hardware") == FREE_HARDWARE and values.get("sleep_time") is not None:
            self.problems.add(
                f"{FREE_HARDWARE} Spaces always sleep after 48 h without visitors; a sleep time "
                "needs upgraded hardware. Remove 'sleep_time' or change 'hardware'.",
                self._origin(loc, ("sleep_time",)),
            )
        mounts: set[str] = set()
        for index, volume in enumerate(values.get("volumes") or ()):
            if volume.mount_path in mounts:
                self.problems.add(
                    f"Two volumes are mounted at '{volume.mount_path}'.",
                    self._origin(loc, ("volumes", index, "mount_path")),
                )
            mounts.add(volume.mount_path)

        cleared = {f for f in _MAPPING_FIELDS if f in own and getattr(entry, f) is None}
        merged_variables = {} if "variables" in cleared else {**default_variables, **variables}
        secrets = (
            {} if "secrets" in cleared else {**(defaults.secrets or {}), **(entry.secrets or {})}
        )
        for key in sorted(set(merged_variables) & set(secrets)):
            self.problems.add(
                f"'{key}' is both a variable and a secret; a Space can have only one of them.",
                self._origin(loc, ("secrets", key)),
            )
        card = _merge_card(None if "card" in cleared else defaults.card, entry.card)

        source: Path | None = None
        if values.get("source") is not None:
            source = (self.base_dir / values["source"]).resolve()
            if state == "present" and self.check_sources:
                self._check_source(values["source"], source, self._origin(loc, ("source",)))
        return SpaceSpec(
            id=space_id,
            sdk=sdk,
            **{name: values.get(name) for name in _SETTINGS},
            volumes=tuple(values["volumes"]) if values.get("volumes") is not None else None,
            variables=merged_variables,
            secrets=secrets,
            card=card,
            source=source,
            ignore=tuple(values.get("ignore") or ()),
            ignore_changes=tuple(values.get("ignore_changes") or ()),
            restart=values.get("restart") or "never",
            template=values.get("template"),
            allow_files=tuple(values.get("allow_files") or ()),
            healthcheck=values.get("healthcheck"),
            protect=bool(values.get("protect")),
            prune=bool(values.get("prune")),
            state=state,
        )

    def _origin(self, loc: Loc, path: Loc) -> Loc:
        """Where a merged value was written: in the Space entry, else in defaults."""
        own = (*loc, *path)
        return own if self.document.has(own) else ("defaults", *path)

    def _check_source(self, raw: str, source: Path, loc: Loc) -> None:
        if not source.exists():
            self.problems.add(f"Source folder '{raw}' does not exist ({source}).", loc)
        elif not source.is_dir():
            self.problems.add(f"Source '{raw}' is not a folder ({source}).", loc)


def _check_ignore_changes(entry: EntryFields, loc: Loc, problems: _Problems) -> None:
    for index, pattern in enumerate(entry.ignore_changes or ()):
        problems.add(pattern_problem(pattern), (*loc, "ignore_changes", index))


def _check_template(entry: EntryFields, loc: Loc, problems: _Problems) -> None:
    if entry.template is None:
        return
    owner, _, name = entry.template.rpartition("/")
    problem = (
        _name_problem(owner, "owner") or _name_problem(name, "Space name")
        if owner
        else f"Expected OWNER/SPACE, not '{entry.template}'."
    )
    problems.add(problem, (*loc, "template"))


def _merge_card(defaults: CardSpec | None, own: CardSpec | None) -> CardSpec | None:
    """Key-wise merge of card fields, the Space's winning; `null` values are dropped."""
    parts = [c.model_dump(exclude_unset=True) for c in (defaults, own) if c is not None]
    if not parts:
        return None
    merged = {k: v for part in parts for k, v in part.items()}
    return CardSpec.model_validate({k: v for k, v in merged.items() if v is not None})
