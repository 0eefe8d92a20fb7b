"""Environments resolved by the loader: `--env NAME` gives an ordinary Manifest of renamed
Spaces with the environment's overrides; every broken environment is a FILE:LINE:COL problem
(even one no --env chose: validate reports it)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from test_manifest import workdir  # noqa: F401  (a working directory holding app/)

from spacectl.errors import ManifestError
from spacectl.manifest_loader import load_manifest

MANIFEST = """\
owner: acme
defaults:
  hardware: cpu-basic
  variables: {LOG: info}
environments:
  staging:
    name: "{name}-staging"
    overrides:
      visibility: private
      variables: {STAGE: staging}
      ignore_changes: [sleep_time]
    spaces:
      api:
        hardware: cpu-upgrade
        variables: {WORKERS: 1.10}
        secrets: {KEY: {from_env: STAGING_KEY}}
  prod:
    owner: acme-prod
    overrides: {hardware: t4-small}
spaces:
  api:
    sdk: docker
    source: ./app
    secrets: {KEY: {from_env: KEY, description: the key}}
    variables: {WORKERS: 4}
  docs: {sdk: static, visibility: public}
"""


pytestmark = pytest.mark.usefixtures("workdir")


def _load(text: str, env: str | None) -> Any:
    Path("spaces.yaml").write_text(textwrap.dedent(text))
    return load_manifest(Path("spaces.yaml"), environment=env)


def test_without_env_the_manifest_means_itself() -> None:
    manifest = _load(MANIFEST, None)
    assert manifest.environment is None
    assert [s.id for s in manifest.spaces] == ["acme/api", "acme/docs"]
    api = manifest.space("acme/api")
    assert api.hardware == "cpu-basic" and api.visibility is None
    assert api.secrets["KEY"].from_env == "KEY"


def test_an_environment_renames_and_overrides() -> None:
    manifest = _load(MANIFEST, "staging")
    assert manifest.environment == "staging"
    assert [s.id for s in manifest.spaces] == ["acme/api-staging", "acme/docs-staging"]
    api, docs = manifest.spaces
    assert api.hardware == "cpu-upgrade"  # the Space's override wins over the manifest
    assert api.visibility == "private"  # the environment-wide override
    assert api.variables == {"LOG": "info", "WORKERS": "1.10", "STAGE": "staging"}
    # Secrets merge key-wise, each key replaced whole (as over defaults).
    assert api.secrets == {"KEY": api.secrets["KEY"]}
    assert api.secrets["KEY"].from_env == "STAGING_KEY" and api.secrets["KEY"].description is None
    assert api.ignore_changes == ("sleep_time",)
    assert api.source == (Path.cwd() / "app").resolve()
    # A static Space skips an environment-wide hardware, as it skips a default one.
    assert docs.visibility == "private" and docs.hardware is None


def test_another_owner_keeps_the_names() -> None:
    manifest = _load(MANIFEST, "prod")
    assert [s.id for s in manifest.spaces] == ["acme-prod/api", "acme-prod/docs"]
    assert manifest.space("acme-prod/api").hardware == "t4-small"


def test_an_unknown_env_names_those_defined() -> None:
    with pytest.raises(ManifestError) as info:
        _load(MANIFEST, "stagin")
    assert (
        str(info.value)
        == "--env stagin: spaces.yaml defines no such environment (defined: prod, staging)"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'name: "{name}-staging"',
            'name: "{name}--staging"',
            "spaces.yaml:7:5: environments.staging.name: Invalid Space name 'api--staging': "
            "cannot contain '--' or '..' (for Space 'acme/api').",
        ),
        (
            'name: "{name}-staging"',
            'name: "staging"',
            "spaces.yaml:7:5: environments.staging.name: The pattern must contain {name} (or "
            "the environment set another owner): otherwise its Spaces would be the manifest's "
            "own.",
        ),
        (
            'name: "{name}-staging"',
            'name: "{name}-{stage}"',
            "spaces.yaml:7:5: environments.staging.name: Only {name} may appear in braces in "
            "the name pattern.",
        ),
        (
            "      api:\n        hardware: cpu-upgrade",
            "      apy:\n        hardware: cpu-upgrade",
            "spaces.yaml:13:7: environments.staging.spaces.apy: No Space 'apy' in `spaces:` to "
            "override.",
        ),
        (
            "    overrides: {hardware: t4-small}",
            "    overrides: {hardwear: t4-small}",
            "spaces.yaml:19:17: environments.prod.overrides.hardwear: Unknown key 'hardwear'; "
            "did you mean 'hardware'?",
        ),
        (
            "        secrets: {KEY: {from_env: STAGING_KEY}}",
            "        secrets: {KEY: literal-value}",
            "spaces.yaml:16:19: environments.staging.spaces.api.secrets.KEY: Secret values are "
            "never written in the manifest; use {from_env: VAR} and set VAR in the environment.",
        ),
        (
            "  prod:\n",
            "  prod:\n    spaces: {docs: {sleep_time: 60}}\n",
            "spaces.yaml:18:21: environments.prod.spaces.docs.sleep_time: A static Space has no "
            "sleep time.",
        ),
        (
            "    owner: acme-prod",
            "    owner: acme--prod",
            "spaces.yaml:18:5: environments.prod.owner: Invalid owner 'acme--prod': cannot "
            "contain '--' or '..'.",
        ),
        (
            "      ignore_changes: [sleep_time]",
            "      ignore_changes: [sleeptime]",
            "spaces.yaml:11:24: environments.staging.overrides.ignore_changes[0]: Unknown field",
        ),
    ],
)
def test_a_broken_environment_is_reported_where_it_is_written(
    old: str, new: str, expected: str
) -> None:
    assert old in MANIFEST
    # Without --env too: a broken environment is a broken manifest (validate reports it).
    for env in (None, "staging"):
        with pytest.raises(ManifestError) as info:
            _load(MANIFEST.replace(old, new), env)
        assert str(info.value).startswith(expected), str(info.value)
        assert "literal-value" not in str(info.value)
