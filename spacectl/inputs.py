"""The local inputs of a plan: scanned source folders, secret digests and what to read live.

This is the I/O half that `compute_plan` (pure) needs: it reads the source folders and the
environment. Secret values are read only to compute keyed digests, and are not kept. A secret
whose variable is unset or empty is not an error here: the plan reports it as not verified
(`unknown_secrets`), and apply refuses to write it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from spacectl.cache import DigestCache
from spacectl.card import desired_files, readme_out_of_date
from spacectl.errors import ConfigError
from spacectl.files import LocalFile, check_no_secret_values, scan_source
from spacectl.manifest import Manifest, SpaceSpec
from spacectl.secrets import SECRET_KEY_ENV, credential_source, imported_variable, secret_digest
from spacectl.state import LiveSpace, ReadNeeds


@dataclass(frozen=True)
class PlanInputs:
    """Everything compute_plan needs from this machine besides the manifest and live state.

    `files`: per Space id, the local file set (None when the Space has no `source`).
    `secret_digests`: per (space id, key), the HMAC digest of the value, or None without a key
    or without the value.
    `unknown_secrets`: per (space id, key) whose value this machine does not have, why
    (`$VAR is not set`, `$VAR is empty`); such a secret is compared without its value.
    `base_dir`: the manifest's folder, which file paths in the plan are relative to.
    `targets`: the `--target` names (None: every Space).
    """

    files: Mapping[str, Mapping[str, LocalFile] | None]
    secret_digests: Mapping[tuple[str, str], str | None]
    base_dir: Path
    targets: frozenset[str] | None = None
    unknown_secrets: Mapping[tuple[str, str], str] = field(default_factory=dict)


def matches_target(space_id: str, targets: frozenset[str] | None) -> bool:
    """`--target` accepts the full id or the bare name, in any letter case (as the Hub)."""
    if not targets:
        return True
    wanted = {target.lower() for target in targets}
    return space_id.lower() in wanted or space_id.split("/", 1)[1].lower() in wanted


def targeted(manifest: Manifest, targets: frozenset[str] | None) -> list[SpaceSpec]:
    return [spec for spec in manifest.spaces if matches_target(spec.id, targets)]


def read_needs(
    spec: SpaceSpec, local: Mapping[str, LocalFile] | None
) -> Callable[[LiveSpace], ReadNeeds]:
    """Only the per-Space reads this entry needs, decided once the bulk listing is known: an
    entry that manages no variables does not pay for a variables read, and the remote README is
    downloaded only when the card must be merged into it (its front matter differs)."""

    def needs(listed: LiveSpace) -> ReadNeeds:
        if spec.state == "absent":
            return ReadNeeds()
        no_local_readme = local is None or "README.md" not in local
        return ReadNeeds(
            variables=bool(spec.variables) or spec.prune,
            secrets=bool(spec.secrets) or spec.prune,
            files=spec.source is not None,
            readme=no_local_readme and readme_out_of_date(spec, listed),
        )

    return needs


def scan_all(
    specs: list[SpaceSpec], *, parallelism: int = 4, digests: DigestCache | None = None
) -> dict[str, Mapping[str, LocalFile] | None]:
    """Desired files per Space. Each source folder is scanned once, even when several Spaces
    share it; the README card is merged per Space. README.md is held in memory so the planner
    can read its front matter without touching the disk."""
    present = [s for s in specs if s.state == "present" and s.source is not None]
    folders = sorted(
        {(s.source, s.ignore, s.allow_files) for s in present if s.source is not None}, key=str
    )
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        scanned = pool.map(lambda f: scan_source(f[0], f[1], allow=f[2], digests=digests), folders)
        scans = dict(zip(folders, scanned, strict=True))
    result: dict[str, Mapping[str, LocalFile] | None] = {
        s.id: None for s in specs if s.state == "present"
    }
    for spec in present:
        assert spec.source is not None
        files = desired_files(spec, scanned=scans[(spec.source, spec.ignore, spec.allow_files)])
        if files is not None:
            result[spec.id] = _readme_in_memory(files)
    return result


def _readme_in_memory(files: dict[str, LocalFile]) -> dict[str, LocalFile]:
    """README.md as checked UTF-8 text in memory: the Hub reads its front matter as text."""
    readme = files.get("README.md")
    if readme is not None and readme.content is None:
        data = readme.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(
                f"'{readme.source_path}' is not UTF-8 text; the Hub reads README.md as UTF-8"
            ) from None
        files = dict(files)
        files["README.md"] = LocalFile.from_bytes("README.md", data)
    return files


def missing_value(environ: Mapping[str, str], variable: str) -> str:
    """Why `variable` gives no secret value (`$VAR is not set`, `$VAR is empty`), or "" when it
    does. Empty counts as missing: CI systems expand an undefined secret (a fork's pull request)
    to ""."""
    value = environ.get(variable)
    if value is None:
        return f"${variable} is not set"
    return f"${variable} is empty" if value == "" else ""


def secret_digests(
    specs: list[SpaceSpec], environ: Mapping[str, str]
) -> dict[tuple[str, str], str | None]:
    """Keyed digests of every secret value (None without SPACECTL_SECRET_KEY or the value)."""
    key_material = environ.get(SECRET_KEY_ENV) or None
    digests: dict[tuple[str, str], str | None] = {}
    for spec in specs:
        for key, secret in spec.secrets.items():
            value = environ.get(secret.from_env)
            digests[(spec.id, key)] = (
                secret_digest(key_material, spec.id, key, value) if key_material and value else None
            )
    return digests


def unknown_secrets(
    specs: list[SpaceSpec], environ: Mapping[str, str]
) -> dict[tuple[str, str], str]:
    """The present Spaces' secrets whose value `environ` does not give, with why."""
    return {
        (spec.id, key): reason
        for spec in specs
        if spec.state == "present"
        for key, secret in spec.secrets.items()
        if (reason := missing_value(environ, secret.from_env))
    }


def check_credentials(
    specs: list[SpaceSpec], environ: Mapping[str, str], token: str | None
) -> None:
    """Refuse a secret whose value would be one of spacectl's own credentials (see
    `secrets.credential_source`) unless it says `allow_token: true`: a Space's code can read its
    secrets, and the deploy token often writes to the whole organisation. Called before the
    plan is shown and before any write. Raises `ConfigError` naming the first such secret."""
    for spec in specs:
        if spec.state != "present":
            continue
        for key, secret in spec.secrets.items():
            if secret.allow_token:
                continue
            why = credential_source(secret.from_env, environ.get(secret.from_env), token)
            if why:
                name = spec.id.split("/", 1)[1]
                raise ConfigError(
                    f"{spec.id}: secret {key} would hand spacectl's own credential to the Space "
                    f"({why})",
                    hint=f"give the Space a token of its own (e.g. from_env: "
                    f"{_own_variable(name, key)}), or set allow_token: true on that secret if "
                    "this is deliberate",
                )


def _own_variable(space_name: str, key: str) -> str:
    named = imported_variable(space_name, key)
    return named if named != key else f"{key}_FOR_SPACE"


def check_secret_text(specs: list[SpaceSpec], environ: Mapping[str, str]) -> None:
    """Refuse a secret value that is not text: bytes that are not UTF-8 reach Python as lone
    surrogates, which neither the Hub (JSON text) nor a digest can take. Raises `ConfigError`
    naming the variable, never the value."""
    for spec in specs:
        for key, secret in spec.secrets.items():
            value = environ.get(secret.from_env) or ""
            if any("\ud800" <= c <= "\udfff" for c in value):
                raise ConfigError(
                    f"{spec.id}: secret {key}: ${secret.from_env} is not valid UTF-8 text; the "
                    "Hub stores secrets as text",
                    hint=f"set {secret.from_env} to the value as UTF-8 (base64-encode binary data)",
                )


def check_files_hold_no_secret(
    specs: list[SpaceSpec],
    files: Mapping[str, Mapping[str, LocalFile] | None],
    environ: Mapping[str, str],
    token: str | None,
    uploads: Mapping[str, Collection[str]] | None = None,
) -> None:
    """Refuse a file about to be published that holds a value spacectl has in hand: any targeted
    Space's secret value, the secret key, the Hub token (`files.check_no_secret_values`; a
    Space's `allow_files` exempts its files). With `uploads` (Space id -> paths the plan
    uploads) only those files are read; a file shared by several Spaces is read once."""
    values = {
        f"${secret.from_env}": environ[secret.from_env]
        for spec in specs
        for secret in spec.secrets.values()
        if environ.get(secret.from_env)
    }
    if environ.get(SECRET_KEY_ENV):
        values[f"${SECRET_KEY_ENV}"] = environ[SECRET_KEY_ENV]
    if token:
        values["the Hub token spacectl uses"] = token
    if not values:
        return
    seen: set[tuple[Path, tuple[str, ...]]] = set()
    for spec in specs:
        local = files.get(spec.id)
        if not local:
            continue
        todo = {}
        for path, file in local.items():
            if uploads is not None and path not in uploads.get(spec.id, ()):
                continue
            key = (file.source_path, spec.allow_files) if file.source_path else None
            if key is None or key not in seen:
                todo[path] = file
                if key is not None:
                    seen.add(key)
        check_no_secret_values(todo, values, spec.allow_files)


def plan_inputs(
    manifest: Manifest,
    *,
    environ: Mapping[str, str],
    targets: frozenset[str] | None,
    digests: DigestCache | None = None,
) -> PlanInputs:
    """Scan the targeted Spaces' source folders (through `digests` when given) and digest their
    secret values: only the targeted Spaces' variables are read. Refuses a secret value that is
    not text (`check_secret_text`). Which files hold a secret is checked once the plan knows
    what it uploads (`check_files_hold_no_secret`): reading every unchanged file again on each
    plan would undo the digest cache."""
    specs = targeted(manifest, targets)
    check_secret_text(specs, environ)
    files = scan_all(specs, digests=digests)
    return PlanInputs(
        files=files,
        secret_digests=secret_digests(specs, environ),
        base_dir=manifest.path.parent,
        targets=targets,
        unknown_secrets=unknown_secrets(specs, environ),
    )
