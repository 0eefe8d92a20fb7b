"""The manifest: pydantic models of the desired state, and the loader.

First stage of the pipeline: YAML file -> `Manifest`. No network; the only I/O is reading the file,
checking that `source` folders exist and (on request) that secrets' environment variables are set.

CONTRACT (the rest of spacectl relies on these names):
- `load_manifest(path) -> Manifest` reads YAML with ruamel.yaml, validates it strictly and raises
  `ManifestError` with `FILE:LINE:COL: where: what` for any problem (unknown key with "did you
  mean", wrong type, duplicate key, invalid name, variable/secret key clash, hardware on a static
  Space, missing `source` folder, missing environment variable for a secret, literal secret value).
- `Manifest.spaces` is a tuple of `SpaceSpec` with `defaults` already merged and `id` set to the
  full `owner/name`.
- Secret values are never stored here: `SecretSpec.from_env` names the environment variable.

Two layers of models: the *file format* (`ManifestFile`, `DefaultsEntry`, `SpaceEntry`: what a
user writes, and what `manifest_json_schema()` describes) and the *resolved* form (`Manifest`,
`SpaceSpec`: defaults merged, names qualified, paths absolute) that the planner consumes.

This module is also the only home of ruamel.yaml (style rule R1), so the README front-matter
helpers (`load_front_matter`, `merge_front_matter`) used by `files.py` live here too.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.tokens import CommentToken

from spacectl.errors import ConfigError, ManifestError, SourceLocation

SDK = Literal["gradio", "streamlit", "docker", "static"]
Visibility = Literal["public", "private", "protected"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretSpec(_Strict):
    """Where a secret's value comes from. The value itself is never in the manifest."""

    from_env: str = Field(description="Environment variable holding the value.")
    description: str | None = Field(default=None, description="Shown on the Hub next to the key.")


class VolumeSpec(_Strict):
    """A volume mounted in the Space (the Hub's volume fields)."""

    type: Literal["bucket", "model", "dataset", "space"] = "bucket"
    source: str = Field(description="Repo or bucket id, e.g. ifcore-org/data.")
    mount_path: str = Field(description="Absolute path in the container, e.g. /data.")
    revision: str | None = None
    read_only: bool | None = None
    path: str | None = Field(default=None, description="Sub-folder of the source to mount.")


class CardSpec(BaseModel):
    """README front matter managed by spacectl (the Hub's Spaces configuration reference).

    Known keys are typed; any other front-matter key is allowed and passed through.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    title: str | None = None
    emoji: str | None = None
    colorFrom: str | None = None  # the Hub's spelling
    colorTo: str | None = None  # the Hub's spelling
    sdk_version: str | None = None
    python_version: str | None = None
    app_file: str | None = None
    app_port: int | None = None
    pinned: bool | None = None
    license: str | None = None
    short_description: str | None = None
    tags: list[str] | None = None
    models: list[str] | None = None
    datasets: list[str] | None = None


class SpaceSpec(_Strict):
    """One Space as the manifest wants it. `None` means "not managed": left as it is on the Hub."""

    id: str = Field(description="Full Space id, owner/name (set by the loader).")
    sdk: SDK | None = None
    visibility: Visibility | None = None
    hardware: str | None = None
    sleep_time: int | None = Field(default=None, description="Seconds; -1 never sleeps.")
    volumes: tuple[VolumeSpec, ...] | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, SecretSpec] = Field(default_factory=dict)
    card: CardSpec | None = None
    source: Path | None = Field(default=None, description="Local folder, resolved absolute.")
    ignore: tuple[str, ...] = ()
    protect: bool = False
    prune: bool = False
    state: Literal["present", "absent"] = "present"

    @property
    def owner(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]


class Manifest(_Strict):
    """The whole file after loading: `path` is where it was read from (absolute); `digest` is the
    SHA-256 of the text that was parsed (a saved plan records it)."""

    version: Literal[1] = 1
    owner: str
    path: Path
    spaces: tuple[SpaceSpec, ...]
    digest: str = ""

    def space(self, space_id: str) -> SpaceSpec:
        """The entry of one Space by its full id; KeyError when the manifest has none."""
        for spec in self.spaces:
            if spec.id == space_id:
                return spec
        raise KeyError(space_id)


# --------------------------------------------------------------------------------------------
# File format: what a user writes. Every field is optional in an entry so that `defaults` can
# supply it; `None` after merging means "not managed".
# --------------------------------------------------------------------------------------------

ENV_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_NAME_CHARS = r"[A-Za-z0-9._-]"
# The Hub's repo-name rules as one JSON-Schema (ECMA-262) regex, for editors; the loader checks the
# same rules one by one in `_name_problem` so that it can say which rule is broken.
_NAME_PATTERN = r"(?![-.])(?!.*(?:--|\.\.))(?!.*\.git$)" + _NAME_CHARS + r"{1,96}(?<![-.])"
SPACE_KEY_PATTERN = rf"^(?:{_NAME_PATTERN.replace('$', '/')}/)?{_NAME_PATTERN}$"

VariableValue = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": ["string", "number", "boolean"],
            "description": "Converted to a string; booleans become 'true'/'false' and numbers "
            "keep the text written in the file.",
        }
    ),
]


class _EntryFields(_Strict):
    """The Space fields shared by `defaults` and each entry of `spaces`."""

    sdk: SDK | None = Field(
        default=None, description="Space SDK: gradio, streamlit, docker or static."
    )
    visibility: Visibility | None = Field(
        default=None,
        description="public, private, or protected (public app, private files).",
    )
    hardware: str | None = Field(
        default=None,
        description="Requested hardware flavour, e.g. cpu-basic, cpu-upgrade, t4-small. "
        "Not allowed on a static Space.",
    )
    sleep_time: int | None = Field(
        default=None,
        description="Seconds of inactivity before the Space sleeps; -1 never sleeps. "
        "Not allowed on a static Space.",
    )
    volumes: list[VolumeSpec] | None = Field(
        default=None, description="Volumes mounted in the Space (replaces the default list)."
    )
    variables: dict[str, VariableValue] | None = Field(
        default=None,
        description="Public environment variables; merged key-wise with defaults.",
        json_schema_extra={"propertyNames": {"pattern": ENV_KEY_PATTERN}},
    )
    secrets: dict[str, SecretSpec] | None = Field(
        default=None,
        description="Secrets, each {from_env: VAR}; the value is read from the environment at "
        "plan/apply time and never written in the manifest. Merged key-wise with defaults.",
        json_schema_extra={"propertyNames": {"pattern": ENV_KEY_PATTERN}},
    )
    card: CardSpec | None = Field(
        default=None,
        description="README front matter (title, emoji, app_port, ...); merged key-wise with "
        "defaults and written into the README.md of `source`.",
    )
    source: str | None = Field(
        default=None,
        description="Local folder that becomes the Space repository, relative to the manifest.",
    )
    ignore: list[str] | None = Field(
        default=None,
        description="gitignore-style patterns of files in `source` not to upload (in addition "
        "to .gitignore files; '!pattern' re-includes).",
    )
    protect: bool | None = Field(
        default=None,
        description="true: never delete the Space (state: absent then plans nothing, with a "
        "warning).",
    )
    prune: bool | None = Field(
        default=None,
        description="true: delete variables and secrets on the Hub that the manifest does not "
        "list.",
    )


class DefaultsEntry(_EntryFields):
    """`defaults:` — fields every Space inherits unless it sets them itself."""


class SpaceEntry(_EntryFields):
    """One entry of `spaces:` as written; the key is `name` or `owner/name`."""

    state: Literal["present", "absent"] | None = Field(
        default=None,
        description="present (default) or absent: absent deletes the Space on apply.",
    )


class ManifestFile(_Strict):
    """The manifest document as written (the JSON Schema `spacectl schema` prints)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="spacectl manifest",
        json_schema_extra={
            # Top-level `x-...` keys are free: a place for YAML anchors shared by several Spaces.
            "patternProperties": {"^x-": {"description": "Free: for YAML anchors/templates."}},
        },
    )

    version: Literal[1] = Field(default=1, description="Manifest format version; only 1 exists.")
    owner: str = Field(description="User or organisation owning Spaces whose key has no slash.")
    defaults: DefaultsEntry | None = Field(
        default=None,
        description="Any Space field except state. Each Space overrides it; variables, secrets "
        "and card merge key-wise.",
    )
    spaces: dict[str, SpaceEntry | None] = Field(
        description="The Spaces, keyed by `name` (in `owner`) or `owner/name`.",
        json_schema_extra={"propertyNames": {"pattern": SPACE_KEY_PATTERN}},
    )


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the manifest file format, with a description per field.

    Editors use it through `# yaml-language-server: $schema=spaces.schema.json`. The schema is a
    convenience: some rules (existing `source`, secrets' environment, name edge cases) are only
    checked by `load_manifest`.
    """
    schema = ManifestFile.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

Loc = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
# Hub fields that make no sense without a running container.
_NOT_ON_STATIC = ("hardware", "sleep_time")
FREE_HARDWARE = "cpu-basic"  # sleeps after 48 h; the Hub ignores a custom sleep time on it
_MAPPING_FIELDS = ("variables", "secrets", "card")


def load_manifest(
    path: Path, *, environ: Mapping[str, str] | None = None, check_sources: bool = True
) -> Manifest:
    """Read and validate the manifest at `path`.

    `environ=None` skips the check that secrets' environment variables are set (`validate`,
    `schema`); pass `os.environ` when the values will be needed (plan, apply).
    `check_sources=False` skips the check that `source` folders exist (`doctor` reports every
    missing one itself instead of stopping at the first). Error messages show `path` exactly as
    given. Raises `ManifestError` for every problem.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(
            f"Manifest '{path}' not found.", hint="Pass the manifest file with -f FILE."
        ) from None
    except OSError as exc:
        raise ManifestError(f"Cannot read manifest '{path}': {exc.strerror}.") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ManifestError(
            "The file is not UTF-8 text.", location=SourceLocation(str(path), line, 1)
        ) from None
    return parse_manifest(
        text, str(path), base_dir=path.parent, environ=environ, check_sources=check_sources
    )


def parse_manifest(
    text: str,
    filename: str,
    *,
    base_dir: Path,
    environ: Mapping[str, str] | None,
    check_sources: bool = True,
) -> Manifest:
    """Validate manifest `text`; `filename` is used in messages, `base_dir` resolves `source`.

    Reports the first problem in file order as a `ManifestError` (its hint counts the others).
    """
    yaml = _manifest_yaml()
    try:
        root_node = yaml.compose(text)
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, filename) from None
    except YAMLError as exc:  # reader errors (e.g. control characters) carry no mark
        message = " ".join(str(exc).split())
        raise ManifestError(
            f"Invalid YAML: {message}", location=SourceLocation(filename, 1, 1)
        ) from None
    _check_duplicate_keys(root_node, (), filename, set())
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:  # compose succeeded, so this is a constructor-level problem
        raise _syntax_error(exc, filename) from None

    if doc is None:
        raise ManifestError(
            "The manifest is empty; expected a mapping with 'owner' and 'spaces'.",
            location=SourceLocation(filename, 1, 1),
        )
    if not isinstance(doc, CommentedMap):
        line, col = _node_start(root_node)
        raise ManifestError(
            f"Expected a mapping with 'owner' and 'spaces' at the top level, got {_kind(doc)}.",
            location=SourceLocation(filename, line, col),
        )

    problems = _Problems(filename, doc)
    _check_header(doc, problems)
    _check_literal_secrets(doc, problems)
    data = {k: v for k, v in _plain(doc).items() if not (isinstance(k, str) and k.startswith("x-"))}
    try:
        parsed = ManifestFile.model_validate(data, strict=True)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            problems.add_pydantic(error)
        problems.raise_first()
        raise  # a ValidationError with no reportable problem is a bug in this module
    problems.raise_first()

    lines = text.splitlines()
    resolver = _Resolver(
        parsed,
        doc,
        problems,
        lines,
        base_dir=base_dir,
        environ=environ,
        check_sources=check_sources,
    )
    specs = resolver.resolve()
    problems.raise_first()
    return Manifest(
        version=1,
        owner=parsed.owner,
        path=(base_dir / Path(filename).name).resolve(),
        spaces=tuple(specs),
        digest=hashlib.sha256(text.encode()).hexdigest(),
    )


def _manifest_yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps line/column of every key and item
    yaml.allow_duplicate_keys = False
    return yaml


def _syntax_error(exc: MarkedYAMLError, filename: str) -> ManifestError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = " ".join((exc.problem or "invalid YAML").split())
    context = ""
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        context = (
            f" ({exc.context} started at line {exc.context_mark.line + 1}, "
            f"column {exc.context_mark.column + 1})"
        )
    return ManifestError(
        f"Invalid YAML: {problem}{context}", location=SourceLocation(filename, line, col)
    )


def _node_start(node: Node | None) -> tuple[int, int]:
    if node is None:
        return 1, 1
    return node.start_mark.line + 1, node.start_mark.column + 1


def _check_duplicate_keys(node: Node | None, loc: Loc, filename: str, seen: set[int]) -> None:
    """Raise on the first key repeated in one mapping, in document order.

    Done on the composed node tree, not by ruamel's constructor, because the constructor's message
    quotes both values (which could be a pasted secret) and does not know the key's path.
    """
    if node is None or id(node) in seen:  # aliases share nodes; anchors may even be recursive
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                _check_duplicate_keys(value_node, loc, filename, seen)
                continue
            key = str(key_node.value)
            if key in first_line:
                line, col = _node_start(key_node)
                raise ManifestError(
                    f"Duplicate key '{key}' (first defined at line {first_line[key]}).",
                    location=SourceLocation(filename, line, col),
                    where=_dotted((*loc, key)),
                )
            first_line[key] = key_node.start_mark.line + 1
            _check_duplicate_keys(value_node, (*loc, key), filename, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _check_duplicate_keys(item, (*loc, index), filename, seen)


def _plain(value: Any) -> Any:
    """ruamel's round-trip types -> plain Python (dict keeps order, merge keys applied)."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, ScalarBoolean)):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value  # None, dates, tagged scalars: left for pydantic to reject where not allowed


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (bool, ScalarBoolean)):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


def _dotted(loc: Loc) -> str | None:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


def _merge_sources(node: CommentedMap) -> Iterator[CommentedMap]:
    """Maps merged into `node` with `<<:`, in priority order."""
    for item in getattr(node, "merge", ()) or ():
        source = item[1] if isinstance(item, tuple) else item  # ruamel < 0.19: (index, map)
        if isinstance(source, CommentedMap):
            yield source


def _key_position(node: CommentedMap, key: Any, *, value: bool = False) -> tuple[int, int] | None:
    """0-based position of `key` (or its value) in `node`, following `<<:` merges."""
    if key in (node.lc.data or {}):  # None when the map holds nothing but `<<:`
        line, col = node.lc.value(key) if value else node.lc.key(key)
        return int(line), int(col)
    for source in _merge_sources(node):
        if key in source:
            return _key_position(source, key, value=value)
    return None


def _walk(doc: CommentedMap, loc: Loc) -> tuple[Any, tuple[int, int], int]:
    """Follow `loc` as far as it exists: (last node, its 0-based position, parts consumed)."""
    node: Any = doc
    pos = (int(doc.lc.line), int(doc.lc.col))
    for depth, part in enumerate(loc):
        if isinstance(node, CommentedMap) and part in node:
            pos = _key_position(node, part) or pos
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line, col = node.lc.item(part)
            pos = (int(line), int(col))
            node = node[part]
        else:
            return node, pos, depth
    return node, pos, len(loc)


def _exists(doc: CommentedMap, loc: Loc) -> bool:
    return _walk(doc, loc)[2] == len(loc)


@dataclass(frozen=True)
class _Problem:
    loc: Loc
    message: str
    line: int
    column: int
    missing: bool = False


class _Problems:
    """Collects problems, then raises the first one in file order."""

    def __init__(self, filename: str, doc: CommentedMap) -> None:
        self.filename = filename
        self.doc = doc
        self.items: list[_Problem] = []

    def add(self, message: str, loc: Loc, *, missing: bool = False) -> None:
        if not message:
            return
        # One report per node: a pre-check and pydantic may both object to the same value.
        if any(loc[: len(p.loc)] == p.loc for p in self.items):
            return
        _, (line, col), _ = _walk(self.doc, loc)
        self.items.append(_Problem(loc, message, line + 1, col + 1, missing))

    def add_pydantic(self, error: Mapping[str, Any]) -> None:
        loc: Loc = tuple(error["loc"])
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
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

    def raise_first(self) -> None:
        if not self.items:
            return
        # A missing key is reported last: it is often the consequence of a misspelt one.
        first = min(self.items, key=lambda p: (p.missing, p.line, p.column))
        others = len(self.items) - 1
        hint = (
            f"{others} more problem{'s' if others > 1 else ''} in this file; fix this one and "
            "run 'spacectl validate' again."
            if others
            else None
        )
        raise ManifestError(
            first.message,
            location=SourceLocation(self.filename, first.line, first.column),
            where=_dotted(first.loc),
            hint=hint,
        )


def _model_at(parent: Loc) -> type[BaseModel] | None:
    match parent:
        case ():
            return ManifestFile
        case ("defaults",):
            return DefaultsEntry
        case ("spaces", _):
            return SpaceEntry
        case ("defaults", "secrets", _) | ("spaces", _, "secrets", _):
            return SecretSpec
        case ("defaults", "volumes", _) | ("spaces", _, "volumes", _):
            return VolumeSpec
        case _:
            return None


def _unknown_key_message(loc: Loc) -> str:
    key = str(loc[-1])
    parent = loc[:-1]
    if parent == ("defaults",) and key == "state":
        return "'state' cannot be a default; set it on each Space."
    model = _model_at(parent)
    allowed = list(model.model_fields) if model else []
    match = difflib.get_close_matches(key, allowed, n=1)
    if match:
        return f"Unknown key '{key}'; did you mean '{match[0]}'?"
    suffix = " (top-level keys starting with 'x-' are free, e.g. for anchors)" if not parent else ""
    return f"Unknown key '{key}'; expected one of: {', '.join(allowed)}{suffix}."


def _check_header(doc: CommentedMap, problems: _Problems) -> None:
    """`version` and `owner` first: their pydantic messages ("Input should be 1") help nobody."""
    if "version" in doc:
        version = doc["version"]
        if isinstance(version, int) and not isinstance(version, (bool, ScalarBoolean)):
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


def _check_literal_secrets(doc: CommentedMap, problems: _Problems) -> None:
    """A secret written as a value is refused before anything else looks at (or prints) it."""
    sections: list[Loc] = [("defaults",)]
    spaces = doc.get("spaces")
    if isinstance(spaces, CommentedMap):
        sections += [("spaces", key) for key in spaces]
    for section in sections:
        node, _, depth = _walk(doc, (*section, "secrets"))
        if depth != len(section) + 1 or not isinstance(node, CommentedMap):
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
        doc: CommentedMap,
        problems: _Problems,
        lines: list[str],
        *,
        base_dir: Path,
        environ: Mapping[str, str] | None,
        check_sources: bool = True,
    ) -> None:
        self.parsed = parsed
        self.doc = doc
        self.problems = problems
        self.lines = lines
        self.base_dir = base_dir
        self.environ = environ
        self.check_sources = check_sources

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

    def _check_entry(self, entry: _EntryFields, loc: Loc) -> None:
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
        if entry.card is not None and "sdk" in (entry.card.model_extra or {}):
            self.problems.add("Set 'sdk' on the Space, not in its card.", (*loc, "card", "sdk"))

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
                    f"Expected a string, number or boolean, got {_kind(value)}.", (*loc, key)
                )
        return out

    def _number_text(self, value: float, loc: Loc) -> str:
        """The number as written (`1.10`, `007`), so that YAML does not silently rewrite it."""
        parent, _, depth = _walk(self.doc, loc[:-1])
        if depth == len(loc) - 1 and isinstance(parent, CommentedMap):
            position = _key_position(parent, loc[-1], value=True)
            if position is not None and position[0] < len(self.lines):
                token = re.match(r"[^\s,\]}#]+", self.lines[position[0]][position[1] :])
                if token and _same_number(token.group(), value):
                    return token.group()
        return str(value)

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
        for field in _EntryFields.model_fields:
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
        if state == "present" and self.environ is not None:
            self._check_environ(secrets, loc)
        return SpaceSpec(
            id=space_id,
            sdk=sdk,
            visibility=values.get("visibility"),
            hardware=values.get("hardware"),
            sleep_time=values.get("sleep_time"),
            volumes=tuple(values["volumes"]) if values.get("volumes") is not None else None,
            variables=merged_variables,
            secrets=secrets,
            card=card,
            source=source,
            ignore=tuple(values.get("ignore") or ()),
            protect=bool(values.get("protect")),
            prune=bool(values.get("prune")),
            state=state,
        )

    def _origin(self, loc: Loc, path: Loc) -> Loc:
        """Where a merged value was written: in the Space entry, else in defaults."""
        own = (*loc, *path)
        return own if _exists(self.doc, own) else ("defaults", *path)

    def _check_source(self, raw: str, source: Path, loc: Loc) -> None:
        if not source.exists():
            self.problems.add(f"Source folder '{raw}' does not exist ({source}).", loc)
        elif not source.is_dir():
            self.problems.add(f"Source '{raw}' is not a folder ({source}).", loc)

    def _check_environ(self, secrets: Mapping[str, SecretSpec], loc: Loc) -> None:
        assert self.environ is not None
        for key, secret in secrets.items():
            where = self._origin(loc, ("secrets", key, "from_env"))
            value = self.environ.get(secret.from_env)
            if value is None:
                self.problems.add(
                    f"Environment variable '{secret.from_env}' is not set; secret '{key}' reads "
                    "its value from it.",
                    where,
                )
            elif value == "":
                # CI systems expand an undefined secret to "": almost always a misconfiguration.
                self.problems.add(
                    f"Environment variable '{secret.from_env}' is empty; secret '{key}' reads its "
                    "value from it.",
                    where,
                )


def _merge_card(defaults: CardSpec | None, own: CardSpec | None) -> CardSpec | None:
    """Key-wise merge of card fields, the Space's winning; `null` values are dropped."""
    parts = [c.model_dump(exclude_unset=True) for c in (defaults, own) if c is not None]
    if not parts:
        return None
    merged = {k: v for part in parts for k, v in part.items()}
    return CardSpec.model_validate({k: v for k, v in merged.items() if v is not None})


def _same_number(token: str, value: float) -> bool:
    try:
        parsed = YAML(typ="safe", pure=True).load(token)
    except YAMLError:
        return False
    return (
        isinstance(parsed, (int, float))
        and not isinstance(parsed, bool)
        and (parsed == value or parsed != parsed)  # NaN != NaN
    )


# --------------------------------------------------------------------------------------------
# README front matter (YAML between `---` lines). Here because ruamel.yaml lives here (R1);
# `files.py` splits the README and calls these.
# --------------------------------------------------------------------------------------------


def load_front_matter(yaml_text: str, *, source: str = "README.md") -> dict[str, Any]:
    """Parse front-matter YAML into plain Python data; `{}` when empty.

    Raises `ConfigError` naming `source` when the YAML is invalid or not a mapping.
    """
    data = _load_front_matter_map(yaml_text, source)
    return dict(_plain(data))


def merge_front_matter(
    yaml_text: str,
    updates: Mapping[str, Any],
    *,
    source: str = "README.md",
    remove: Iterable[str] = (),
) -> str:
    """Set `updates` in front-matter YAML and drop the `remove` keys, keeping everything else
    (order, comments, quotes).

    Existing keys keep their place; new keys are appended in `updates` order. When every update
    already holds, `yaml_text` is returned unchanged (byte for byte), so that a README already in
    sync never shows a diff. Output is deterministic and ends with a newline.
    """
    data = _load_front_matter_map(yaml_text, source)
    changed = False
    for key in remove:
        if key in data and key not in updates:
            del data[key]
            changed = True
    for key, value in updates.items():
        if key in data and _same_value(_plain(data[key]), value):
            continue
        data[key] = value
        changed = True
    if not changed:
        return yaml_text
    indent, seq_offset = _guess_indent(yaml_text)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long short_description
    yaml.indent(mapping=indent, sequence=seq_offset + 2, offset=seq_offset)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _guess_indent(yaml_text: str) -> tuple[int, int]:
    """(mapping indent, offset of a sequence's dash under its key) as the text uses them.

    ruamel re-indents the whole document on dump; matching the author's style keeps a one-key
    change a one-line diff. Defaults are the Hub's README template style (`tags:` then `- a`).
    """
    indent: int | None = None
    seq_offset: int | None = None
    lines = [
        line
        for line in yaml_text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for parent, child in itertools.pairwise(lines):
        if not parent.rstrip().endswith(":"):
            continue
        depth = (len(child) - len(child.lstrip())) - (len(parent) - len(parent.lstrip()))
        if child.lstrip().startswith("-"):
            seq_offset = depth if seq_offset is None else seq_offset
        elif depth > 0:
            indent = depth if indent is None else indent
    return indent or 2, max(seq_offset or 0, 0)


def _load_front_matter_map(yaml_text: str, source: str) -> CommentedMap:
    if not yaml_text.strip():
        return CommentedMap()
    yaml = YAML()
    yaml.preserve_quotes = True
    try:
        data = yaml.load(yaml_text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 2} of the file)" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}: front matter is not valid YAML: {problem}{at}.") from None
    if data is None:
        return CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigError(f"{source}: front matter must be a mapping, got {_kind(data)}.")
    return data


def _same_value(a: Any, b: Any) -> bool:
    """Equality that tells `true` from `1` (Python's `True == 1` would hide a change)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# --------------------------------------------------------------------------------------------
# Editing a manifest in place (`spacectl import`): ruamel round trip, so that comments, key order,
# quotes, anchors and indentation of everything not edited come back byte for byte.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeResult:
    """The edited manifest text and what happened to each Space id given."""

    text: str
    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


def read_manifest_document(text: str) -> dict[str, Any]:
    """The manifest as plain data (merge keys applied), for tools that compute edits.

    The caller validates the text first (`parse_manifest`); this only parses it.
    """
    doc = _manifest_yaml().load(text)
    return dict(_plain(doc)) if isinstance(doc, CommentedMap) else {}


def new_manifest_text(owner: str, header: Sequence[str]) -> str:
    """A manifest with no Spaces yet, each `header` line as a comment on top."""
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header)
    return f"{comments}version: 1\nowner: {owner}\n\nspaces: {{}}\n"


def merge_spaces_into_manifest(
    text: str,
    entries: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    managed: Sequence[str],
) -> MergeResult:
    """Write each `(space_id, entry)` into the manifest `text` and return the new text.

    - A Space already declared (key `name` in the manifest's owner, or `owner/name`) is edited in
      place: for each field of `managed`, a value equal to what the entry has (merge keys and
      all) is left untouched; a different one is replaced (mappings key by key, so comments on
      unchanged keys stay); a field the entry lacks is removed when the Space sets it itself.
      Fields outside `managed` (`source`, `protect`, ...) are never touched.
    - Other Spaces are appended at the end of `spaces:`, keyed by bare name when they belong to
      the manifest's owner, else by `owner/name`, fields in entry order.

    Nothing else changes: a manifest whose entries already match comes back byte for byte.
    Raises `ManifestError` when `text` has no `spaces` mapping to write into.
    """
    yaml = _editing_yaml(text)
    doc = yaml.load(text)
    _keep_anchors(doc, set())
    if not isinstance(doc, CommentedMap) or not isinstance(doc.get("owner"), str):
        raise ManifestError("The manifest has no 'owner' to import into.")
    spaces = doc.get("spaces")
    if spaces is None or (isinstance(spaces, CommentedMap) and not spaces):
        spaces = CommentedMap()
        doc["spaces"] = spaces
    if not isinstance(spaces, CommentedMap):
        raise ManifestError("'spaces' must be a mapping to import into.")
    spaces.fa.set_block_style()
    owner = str(doc["owner"])
    # Matched case-insensitively, as the Hub resolves names: `docs` in the file is `Docs` there.
    keys = {_space_id_of(str(key), owner).lower(): key for key in spaces}
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for space_id, entry in entries:
        key = keys.get(space_id.lower())
        if key is None:
            space_owner, name = space_id.split("/", 1)
            key = name if space_owner.lower() == owner.lower() else space_id
            first = not spaces
            spaces[key] = _to_yaml(entry)
            if not first:  # a blank line between Spaces, as people write them
                spaces.yaml_set_comment_before_after_key(key, before="\n", indent=2)
            added.append(space_id)
            continue
        current = spaces[key]
        if current is None:
            current = CommentedMap()
            spaces[key] = current
        if not isinstance(current, CommentedMap):
            raise ManifestError(f"spaces.{key} must be a mapping to import into.")
        # Comment lines after an entry's last line belong to what follows (the next Space);
        # keep them after the entry's last line even when the edit appends fields to it.
        trailing = _detach_trailing_lines(current)
        changed = _edit_map(current, entry, fields=managed)
        _attach_trailing_lines(current, trailing)
        if changed:
            updated.append(space_id)
        else:
            unchanged.append(space_id)
    if not added and not updated:
        return MergeResult(text, (), (), tuple(unchanged))
    out = io.StringIO()
    yaml.dump(doc, out)
    return MergeResult(out.getvalue(), tuple(added), tuple(updated), tuple(unchanged))


def _editing_yaml(text: str) -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-fold a long line the author wrote on one line
    indent, seq_offset = _guess_indent(text)
    if not any(line.lstrip().startswith("- ") for line in text.splitlines()):
        seq_offset = 2  # no block list to copy the style from: the examples' style
    yaml.indent(mapping=indent, sequence=seq_offset + 2, offset=seq_offset)
    return yaml


def _keep_anchors(node: Any, seen: set[int]) -> None:
    """Mark every anchor to be written back: ruamel drops the ones no alias uses (`x-` templates
    kept for later), which would change lines nobody edited."""
    if id(node) in seen:
        return
    seen.add(id(node))
    anchor = getattr(node, "anchor", None)
    if anchor is not None and getattr(anchor, "value", None):
        anchor.always_dump = True
    if isinstance(node, dict):
        for key, value in node.items():
            _keep_anchors(key, seen)
            _keep_anchors(value, seen)
    elif isinstance(node, list):
        for item in node:
            _keep_anchors(item, seen)


def _space_id_of(key: str, owner: str) -> str:
    return key if "/" in key else f"{owner}/{key}"


def _own_keys(node: CommentedMap) -> set[Any]:
    """Keys written in `node` itself, not brought in by `<<:`."""
    own = getattr(node, "_ok", None)
    return set(own) if own is not None else set(node)


def _edit_map(
    node: CommentedMap, wanted: Mapping[str, Any], *, fields: Sequence[str] | None
) -> bool:
    """Make `node` hold `wanted` for `fields` (all keys of both when None); True if it changed."""
    changed = False
    names = list(fields) if fields is not None else [*node.keys(), *wanted.keys()]
    for name in dict.fromkeys(names):
        if name not in wanted:
            if name in _own_keys(node):
                del node[name]
                changed = True
            continue
        value = wanted[name]
        if name in node and _same_value(_plain(node[name]), value):
            continue
        current = node.get(name)
        if (
            name in _own_keys(node)
            and isinstance(current, CommentedMap)
            and isinstance(value, Mapping)
        ):
            _edit_map(current, value, fields=None)
        else:
            node[name] = _to_yaml(value)
        changed = True
    return changed


def _last_slot(node: Any) -> tuple[Any, Any, int] | None:
    """(container, key, index in `ca.items[key]`) of the comment after a block collection's last
    line, descending into nested block collections; None for an empty or flow collection."""
    while isinstance(node, (CommentedMap, CommentedSeq)) and node and not node.fa.flow_style():
        key = next(reversed(node)) if isinstance(node, CommentedMap) else len(node) - 1
        slot = 2 if isinstance(node, CommentedMap) else 0
        value = node[key]
        nested = isinstance(value, (CommentedMap, CommentedSeq)) and value
        if not nested or value.fa.flow_style():
            return node, key, slot
        node = value
    return None


def _detach_trailing_lines(node: CommentedMap) -> str:
    """Remove and return the full comment lines after `node`'s last line (not its end-of-line
    comment); '' when there are none."""
    where = _last_slot(node)
    if where is None:
        return ""
    container, key, slot = where
    tokens = container.ca.items.get(key)
    token = tokens[slot] if tokens else None
    if token is None or "\n" not in token.value:
        return ""
    head, rest = token.value.split("\n", 1)
    if not rest:
        return ""
    if head.strip():
        token.value = head + "\n"
    else:
        tokens[slot] = None
    return str(rest)


def _attach_trailing_lines(node: CommentedMap, lines: str) -> None:
    where = _last_slot(node)
    if not lines or where is None:
        return
    container, key, slot = where
    tokens = container.ca.items.setdefault(key, [None, None, None, None])
    if tokens[slot] is not None:
        tokens[slot].value += lines
    else:
        tokens[slot] = CommentToken("\n" + lines, CommentMark(0), None)


def _to_yaml(value: Any) -> Any:
    """Plain data -> ruamel nodes: block mappings, except one-line secret references
    (`{from_env: KEY}`), and one-line lists of scalars (`[a, b]`)."""
    if isinstance(value, Mapping):
        node = CommentedMap((k, _to_yaml(v)) for k, v in value.items())
        if "from_env" in value:
            node.fa.set_flow_style()
        else:
            node.fa.set_block_style()
        return node
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq(_to_yaml(v) for v in value)
        if all(not isinstance(v, (Mapping, list, tuple)) for v in value):
            seq.fa.set_flow_style()
        else:
            seq.fa.set_block_style()
        return seq
    return value
