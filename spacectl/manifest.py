"""The manifest's data: pydantic models of the desired state, and the file format's JSON Schema.

Two layers of models: the *file format* (`ManifestFile`, `DefaultsEntry`, `SpaceEntry`: what a
user writes, and what `manifest_json_schema()` describes) and the *resolved* form (`Manifest`,
`SpaceSpec`: defaults merged, names qualified, paths absolute) that the planner consumes.
`manifest_loader.load_manifest` turns a file into a `Manifest`; it checks the file format with
`validate_file_format`, so that this module stays pydantic's only home (style rule R1).

CONTRACT (the rest of spacectl relies on these names):
- `Manifest.spaces` is a tuple of `SpaceSpec` with `defaults` already merged and `id` set to the
  full `owner/name`.
- Secret values are never stored here: `SecretSpec.from_env` names the environment variable.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

SDK = Literal["gradio", "streamlit", "docker", "static"]
Visibility = Literal["public", "private", "protected"]
Restart = Literal["never", "on_change", "factory_on_change"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretSpec(_Strict):
    """Where a secret's value comes from. The value itself is never in the manifest."""

    from_env: str = Field(description="Environment variable holding the value.")
    description: str | None = Field(default=None, description="Shown on the Hub next to the key.")
    manage: Literal["always", "create_only"] = Field(
        default="always",
        description="always: written whenever the value changes; create_only: set when missing "
        "on the Hub, then never compared or overwritten (left to whoever rotates it).",
    )
    allow_token: bool = Field(
        default=False,
        description="Allow the value to be spacectl's own credential (its Hub token, or a "
        "variable named HF_TOKEN or SPACECTL_SECRET_KEY): handing it to the Space is deliberate.",
    )


class VolumeSpec(_Strict):
    """A volume mounted in the Space (the Hub's volume fields)."""

    type: Literal["bucket", "model", "dataset", "space"] = "bucket"
    source: str = Field(description="Repo or bucket id, e.g. ifcore-org/data.")
    mount_path: str = Field(description="Absolute path in the container, e.g. /data.")
    revision: str | None = None
    read_only: bool | None = None
    path: str | None = Field(default=None, description="Sub-folder of the source to mount.")


_HEALTH_PATH = re.compile(r"^/[^\s#]*$")  # anchored: JSON Schema patterns search


class HealthcheckSpec(_Strict):
    """`healthcheck:` — what `apply --wait` asks the running app before it calls a deploy good.
    Not a Hub attribute: never diffed, never written to the Hub."""

    path: str = Field(
        default="/",
        max_length=2000,
        description="Path (and query) on the app's host to GET, starting with '/'.",
        json_schema_extra={"pattern": _HEALTH_PATH.pattern},
    )
    expect: int = Field(default=200, ge=100, le=599, description="The HTTP status that passes.")
    timeout: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="Seconds to keep asking while the app answers 5xx or does not answer yet.",
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _HEALTH_PATH.fullmatch(value):
            raise PydanticCustomError(
                "healthcheck_path",
                "Expected a path starting with '/' (like /health), not '{value}'.",
                {"value": value},
            )
        return value


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
    dev_mode: bool | None = None
    volumes: tuple[VolumeSpec, ...] | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, SecretSpec] = Field(default_factory=dict)
    card: CardSpec | None = None
    source: Path | None = Field(default=None, description="Local folder, resolved absolute.")
    ignore: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    restart: Restart = "never"
    template: str | None = Field(default=None, description="owner/name a new Space copies.")
    allow_files: tuple[str, ...] = ()
    healthcheck: HealthcheckSpec | None = None
    protect: bool = False
    prune: bool = False
    state: Literal["present", "absent"] = "present"

    @property
    def owner(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]


class PreviewSettings(_Strict):
    """`previews:` — how `spacectl preview up ID` copies the manifest's Spaces."""

    name: str = Field(
        default="{name}-{id}",
        description="Name pattern of a preview Space: {name} is the Space's name, {id} the "
        "preview's ID (e.g. pr-42).",
    )
    visibility: Visibility = Field(default="private", description="Visibility of previews.")
    hardware: str | None = Field(
        default=None,
        description="Hardware of previews (default: cpu-basic, the cheapest, whatever the "
        "manifest says).",
    )
    secrets: list[str] = Field(
        default_factory=list,
        description="Secret keys a preview gets (default: none; a pull request's code reads them).",
    )


class Manifest(_Strict):
    """The whole file after loading: `path` is where it was read from (absolute); `digest` is the
    SHA-256 of the text that was parsed (a saved plan records it)."""

    version: Literal[1] = 1
    owner: str
    path: Path
    spaces: tuple[SpaceSpec, ...]
    digest: str = ""
    environment: str | None = Field(
        default=None, description="The `environments:` entry resolved into `spaces` (--env)."
    )
    previews: PreviewSettings = Field(default_factory=PreviewSettings)

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
ENV_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"  # an environment's name (--env NAME)
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


class EntryFields(_Strict):
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
    dev_mode: bool | None = Field(
        default=None,
        description="Spaces Dev Mode (SSH and VS Code into the running Space; PRO, Team or "
        "Enterprise). Not allowed on a static Space.",
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
    ignore_changes: list[str] | None = Field(
        default=None,
        description="Fields of an existing Space that humans own: never diffed or written "
        "(hardware, sleep_time, variables.DEMO_MODE, secrets.*, card.title, files/data/**; "
        "'*' within a name or folder, '**' across folders). A Space being created still gets "
        "them. Replaces the default list.",
    )
    template: str | None = Field(
        default=None,
        description="OWNER/SPACE: a Space that does not exist yet is created by duplicating "
        "this one (its files and history), with this entry's visibility, hardware, sleep "
        "time, variables, secrets and volumes in the same call; then converged like any other.",
    )
    restart: Restart | None = Field(
        default=None,
        description="never (default: only the Hub's own restarts), on_change (restart after "
        "apply changed the Space) or factory_on_change (factory reboot, rebuilding without "
        "cache: for an image that clones code at build time).",
    )
    allow_files: list[str] | None = Field(
        default=None,
        description="gitignore-style patterns of files in `source` to upload although they look "
        "like credentials (.env, *.pem, id_rsa, .netrc...) or hold a secret's value, e.g. "
        "['.env.example'].",
    )
    healthcheck: HealthcheckSpec | None = Field(
        default=None,
        description="{path, expect, timeout}: once the Space runs, `apply --wait` GETs path on "
        "the app's URL and fails like a failed build unless it answers expect (retrying 5xx "
        "and no answer for timeout seconds). Never sent to the Hub.",
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


class DefaultsEntry(EntryFields):
    """`defaults:` — fields every Space inherits unless it sets them itself."""


class SpaceEntry(EntryFields):
    """One entry of `spaces:` as written; the key is `name` or `owner/name`."""

    state: Literal["present", "absent"] | None = Field(
        default=None,
        description="present (default) or absent: absent deletes the Space on apply.",
    )


class EnvironmentEntry(_Strict):
    """One entry of `environments:`: the same Spaces under other names, with overrides."""

    name: str = Field(
        default="{name}",
        description="Name pattern of the environment's Spaces; {name} is the Space's name in "
        "`spaces` (e.g. '{name}-staging').",
    )
    owner: str | None = Field(
        default=None, description="Owner of the environment's Spaces (default: each Space's)."
    )
    overrides: EntryFields | None = Field(
        default=None,
        description="Space fields for every Space of the environment, winning over the "
        "manifest's (variables, secrets and card merge key-wise).",
    )
    spaces: dict[str, EntryFields | None] | None = Field(
        default=None,
        description="Per Space (its key in `spaces`): fields winning over `overrides`.",
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
    previews: PreviewSettings | None = Field(
        default=None,
        description="Preview Spaces (`spacectl preview up ID`): a private copy of each Space "
        "per pull request, on the cheapest hardware, without secrets unless listed here.",
    )
    environments: dict[str, EnvironmentEntry] | None = Field(
        default=None,
        description="Other copies of the same Spaces (staging, prod), chosen with --env: "
        "each renames them and overrides fields. Without --env the manifest means itself.",
        json_schema_extra={"propertyNames": {"pattern": ENV_NAME_PATTERN}},
    )


def allowed_keys(path: tuple[str | int, ...]) -> list[str]:
    """The keys the file format allows in the mapping at `path` (a mapping key or list index
    from the document's root, as pydantic's error `loc` gives it), read off the models'
    annotations so that a field added to a model is known here; [] where no strict model is
    (a mapping of free keys such as `variables`, the card, a path that does not exist)."""
    target: Any = ManifestFile
    for part in path:
        if isinstance(target, type) and issubclass(target, BaseModel):
            field = target.model_fields.get(str(part))
            target = None if field is None else _inner_type(field.annotation)
        elif get_origin(target) is dict:
            target = _inner_type(get_args(target)[1])
        elif get_origin(target) in (list, tuple) and isinstance(part, int):
            target = _inner_type(get_args(target)[0])
        else:
            return []
    if isinstance(target, type) and issubclass(target, _Strict):
        return list(target.model_fields)
    return []


def _inner_type(annotation: Any) -> Any:
    """`X` of `X | None` and of `Annotated[X, ...]`; other annotations as they are."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the manifest file format, with a description per field.

    Editors use it through `# yaml-language-server: $schema=spaces.schema.json`. The schema is a
    convenience: some rules (existing `source`, secrets' environment, name edge cases) are only
    checked by `load_manifest`.
    """
    schema = ManifestFile.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# The attributes `ignore_changes` may name (the attribute table's names: a test keeps them equal).
IGNORABLE = (
    "sdk",
    "visibility",
    "hardware",
    "sleep_time",
    "dev_mode",
    "volumes",
    "variables",
    "secrets",
    "card",
    "files",
)

FREE_HARDWARE = "cpu-basic"  # sleeps after 48 h; the Hub ignores a custom sleep time on it


class FileFormatError(Exception):
    """What `validate_file_format` found wrong: `errors` in pydantic's form, each a mapping with
    `loc` (path of the value), `type` (e.g. "missing", "extra_forbidden") and `msg`."""

    def __init__(self, errors: list[Mapping[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the manifest file format")
        self.errors = errors


def validate_file_format(data: Mapping[str, Any]) -> ManifestFile:
    """`data` (the document as plain data, free `x-` keys removed) as a `ManifestFile`, checked
    strictly (no type coercion). Raises `FileFormatError` listing every problem."""
    try:
        return ManifestFile.model_validate(data, strict=True)
    except ValidationError as exc:
        raise FileFormatError(list(exc.errors(include_url=False))) from None
