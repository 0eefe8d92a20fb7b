"""The manifest: pydantic models of the desired state, and the loader.

CONTRACT (the rest of spacectl relies on these names):
- `load_manifest(path) -> Manifest` reads YAML with ruamel.yaml, validates it strictly and raises
  `ManifestError` with `FILE:LINE:COL: where: what` for any problem (unknown key with "did you mean",
  wrong type, duplicate key, invalid name, variable/secret key clash, hardware on a static Space,
  missing `source` folder, missing environment variable for a secret, literal secret value).
- `Manifest.spaces` is a tuple of `SpaceSpec` with `defaults` already merged and `id` set to the
  full `owner/name`.
- Secret values are never stored here: `SecretSpec.from_env` names the environment variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
    colorFrom: str | None = None  # noqa: N815 - the Hub's spelling
    colorTo: str | None = None  # noqa: N815 - the Hub's spelling
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


class Manifest(_Strict):
    """The whole file after loading: `path` is where it was read from (absolute)."""

    version: Literal[1] = 1
    owner: str
    path: Path
    spaces: tuple[SpaceSpec, ...]

    def space(self, space_id: str) -> SpaceSpec:
        for spec in self.spaces:
            if spec.id == space_id:
                return spec
        raise KeyError(space_id)
