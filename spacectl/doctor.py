"""`spacectl doctor`: the pre-deploy checklist, one verdict per check.

Each check returns a `Check` (PASS, WARN or FAIL, a message and, for a problem, the fix). The
check functions are pure: they take the manifest entry, scanned files, the environment or data the
Hub returned. `run_checks` reads the Hub through a `CatalogPort` (in practice `hub.Hub`): one
`whoami`, one hardware listing, and one README validation per Space whose README spacectl writes.

Secret values are never read into a message: only whether a variable is set.
"""

from __future__ import annotations

import difflib
import enum
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from spacectl.card import README, card_fields, desired_files, readme_front_matter, render_readme
from spacectl.errors import AuthError, HubError, SpacectlError
from spacectl.files import LocalFile
from spacectl.manifest import FREE_HARDWARE, Manifest, SpaceSpec
from spacectl.port import CatalogPort
from spacectl.state import Identity

DEFAULT_APP_PORT = 7860
# The Hub stores these as large files (LFS/Xet), as the sandbox and the Hub's preupload decide.
LARGE_FILE_BYTES = 10 * 1024 * 1024
BINARY_SNIFF_BYTES = 512
# Database wire protocols: outbound connections to them are unreliable from Spaces.
DATABASE_PORTS = {5432: "PostgreSQL", 3306: "MySQL", 6379: "Redis", 27017: "MongoDB"}
_SCAN_TEXT_BYTES = 1024 * 1024  # larger files are data, not code that opens connections
_DB_URL = re.compile(r"\b(postgres(?:ql)?|mysql|mariadb|rediss?|mongodb(?:\+srv)?)://", re.I)
_DB_PORT = re.compile(
    r"(?:[:=]\s*|port\s*[=:]?\s*)(" + "|".join(str(p) for p in DATABASE_PORTS) + r")(?!\d)", re.I
)
# Roles in an organisation that may write to its Spaces.
_WRITE_ROLES = frozenset({"admin", "write"})


class Verdict(str, enum.Enum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report. `fix` is set for FAIL and WARN."""

    name: str
    verdict: Verdict
    message: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (`doctor --format json`); `fix` is None on a PASS."""
        return {
            "name": self.name,
            "verdict": self.verdict.value,
            "message": self.message,
            "fix": self.fix if self.verdict is not Verdict.PASS else None,
        }


def failed(checks: Iterable[Check]) -> bool:
    return any(check.verdict is Verdict.FAIL for check in checks)


def render_checks(checks: Iterable[Check]) -> str:
    """`PASS  name: message` lines; a `fix:` line under each FAIL and WARN."""
    lines = []
    for check in checks:
        lines.append(f"{check.verdict.value}  {check.name}: {check.message}")
        if check.fix and check.verdict is not Verdict.PASS:
            lines.append(f"      fix: {check.fix}")
    return "\n".join(lines) + "\n"


# --- the whole run ------------------------------------------------------------------------------


def run_checks(
    manifest: Manifest,
    hub: CatalogPort,
    environ: Mapping[str, str],
    *,
    access: list[Check] | None = None,
) -> list[Check]:
    """Every check for `manifest`, in report order: the token, write access per owner, then per
    Space (secrets, source, Dockerfile and port, README, hardware, platform limits). `access`
    replaces the token and write-access checks (keyless mode: `oidc.keyless_checks`)."""
    checks: list[Check] = []
    identity: Identity | None = None
    reachable = True
    if access is not None:
        checks += access
    else:
        token, identity, reachable = check_token(hub)
        checks.append(token)
    # An unreachable Hub would make every later read retry for a minute before failing.
    online: CatalogPort | None = hub if reachable else None
    if identity is not None:
        owners = dict.fromkeys([manifest.owner, *(spec.owner for spec in manifest.spaces)])
        checks += [check_write_access(identity.raw, owner) for owner in owners]
    flavors: list[str] | Exception | None = None
    if any(s.hardware for s in manifest.spaces):
        flavors = _flavors(online) if online else SpacectlError("the Hub is unreachable")
    for spec in manifest.spaces:
        if spec.state == "absent":
            continue
        checks += _space_checks(spec, online, environ, flavors)
    return checks


def _space_checks(
    spec: SpaceSpec,
    hub: CatalogPort | None,
    environ: Mapping[str, str],
    flavors: list[str] | Exception | None,
) -> list[Check]:
    checks: list[Check] = []
    if spec.secrets:
        checks.append(check_secrets_env(spec, environ))
    files: dict[str, LocalFile] | None = None
    if spec.source is not None:
        source_check, files = check_source(spec)
        checks.append(source_check)
    front = _front_matter(spec, files)
    sdk = spec.sdk or (str(front["sdk"]) if front.get("sdk") else None)
    if sdk == "docker" and files is not None:
        checks.append(check_dockerfile(spec, files))
        checks.append(check_port(spec, files, front))
    readme = check_readme(spec, files, hub)
    if readme is not None:
        checks.append(readme)
    if spec.hardware is not None and flavors is not None:
        checks.append(check_hardware(spec, flavors))
    if sdk != "static":
        free = check_free_hardware(spec)
        if free is not None:
            checks.append(free)
    if files is not None:
        checks.append(check_database_ports(spec, files))
        checks.append(check_large_files(spec, files))
    return checks


def _flavors(hub: CatalogPort) -> list[str] | Exception:
    try:
        return hub.hardware_flavors()
    except HubError as exc:
        return exc


def readme_text(spec: SpaceSpec, files: Mapping[str, LocalFile] | None) -> str | None:
    """The README.md spacectl will commit: the source's, with the card merged (`desired_files`),
    else one rendered from the card and sdk. None when spacectl writes no README.

    Without a README in the source, the plan merges the card into the Space's README on the Hub;
    doctor does not read it and checks the front matter spacectl sets instead."""
    readme = (files or {}).get(README)
    if readme is not None:
        return readme.read_bytes().decode("utf-8", "replace")
    if spec.card is None and spec.sdk is None:
        return None
    card = card_fields(spec.card)
    return render_readme(None, card, spec.sdk)


def _front_matter(spec: SpaceSpec, files: Mapping[str, LocalFile] | None) -> dict[str, Any]:
    """Front matter of `readme_text`; {} when there is none or it is invalid (`check_readme`
    reports that)."""
    text = readme_text(spec, files)
    try:
        return readme_front_matter(text) if text is not None else {}
    except SpacectlError:
        return {}


def _label(kind: str, spec: SpaceSpec) -> str:
    return f"{kind} ({spec.id})"


# --- identity -----------------------------------------------------------------------------------


def check_token(hub: CatalogPort) -> tuple[Check, Identity | None, bool]:
    """A token is found and the Hub accepts it. Also returns the identity (None on failure) and
    whether the Hub answered at all."""
    try:
        identity = hub.whoami()
    except AuthError as exc:
        fix = "set HF_TOKEN (or pass --token, or run `hf auth login`) to a token from "
        fix += "https://huggingface.co/settings/tokens"
        return Check("token", Verdict.FAIL, exc.message, fix), None, True
    except HubError as exc:
        fix = exc.hint or "check the network, HF_ENDPOINT or --endpoint"
        return Check("token", Verdict.FAIL, f"cannot check: {exc.message}", fix), None, False
    role = identity.role or "unknown role"
    message = f"valid, user {identity.name} ({role} token)"
    return Check("token", Verdict.PASS, message), identity, True


def check_write_access(whoami: Mapping[str, Any], owner: str) -> Check:
    """Whether the token may write Spaces of `owner`, from the `whoami-v2` answer.

    - a `read` token writes nothing;
    - a fine-grained token needs `repo.write` scoped to the owner (user or organisation);
    - otherwise the owner is the user, or an organisation where the user's role is admin or
      write (a `contributor` can create Spaces but not edit others' Spaces: WARN).
    """
    name = f"write access ({owner})"
    user = str(whoami.get("name", ""))
    token = (whoami.get("auth") or {}).get("accessToken") or {}
    role = token.get("role")
    new_token = (
        "create a token with write access (role write, or fine-grained with repo.write on "
        f"{owner}) at https://huggingface.co/settings/tokens"
    )
    if role == "read":
        return Check(name, Verdict.FAIL, "the token is read-only", new_token)
    if role == "fineGrained":
        scoped = (token.get("fineGrained") or {}).get("scoped") or []
        for scope in scoped:
            entity = scope.get("entity") or {}
            same_owner = str(entity.get("name", "")).lower() == owner.lower()
            if same_owner and "repo.write" in (scope.get("permissions") or []):
                return Check(name, Verdict.PASS, f"fine-grained token with repo.write on {owner}")
        return Check(
            name,
            Verdict.FAIL,
            f"the fine-grained token has no repo.write permission on {owner}",
            f"edit the token's permissions: add {owner} with 'Write access to contents/settings "
            "of all repos'",
        )
    # Hub names are case-insensitive.
    if owner.lower() == user.lower():
        return Check(name, Verdict.PASS, f"{owner} is the token's user")
    orgs = {str(o.get("name")).lower(): o for o in whoami.get("orgs") or []}
    if owner.lower() not in orgs:
        return Check(
            name,
            Verdict.FAIL,
            f"{user} is not a member of {owner} (or {owner} does not exist)",
            f"ask an admin of {owner} to add {user} with the write role, or fix `owner:`",
        )
    org_role = orgs[owner.lower()].get("roleInOrg")
    if org_role in _WRITE_ROLES or org_role is None:
        return Check(name, Verdict.PASS, f"{user} is a member of {owner} ({org_role or 'member'})")
    if org_role == "contributor":
        return Check(
            name,
            Verdict.WARN,
            f"{user} is a contributor of {owner}: can create Spaces but not edit others'",
            f"ask an admin of {owner} for the write role",
        )
    return Check(
        name,
        Verdict.FAIL,
        f"{user} has the '{org_role}' role in {owner}, which cannot write",
        f"ask an admin of {owner} for the write role",
    )


# --- local checks -------------------------------------------------------------------------------


def check_secrets_env(spec: SpaceSpec, environ: Mapping[str, str]) -> Check:
    """Every secret's environment variable is set and not empty (all are listed, not the first)."""
    missing = [s.from_env for s in spec.secrets.values() if s.from_env not in environ]
    empty = [s.from_env for s in spec.secrets.values() if environ.get(s.from_env) == ""]
    name = _label("secrets", spec)
    if not missing and not empty:
        return Check(name, Verdict.PASS, f"{len(spec.secrets)} environment variable(s) set")
    parts = []
    if missing:
        parts.append(f"not set: {', '.join(dict.fromkeys(missing))}")
    if empty:
        parts.append(f"empty: {', '.join(dict.fromkeys(empty))}")
    first = (missing or empty)[0]
    return Check(
        name,
        Verdict.FAIL,
        "; ".join(parts),
        f"export {first}=... before plan/apply (in CI: a secret of the job mapped to {first})",
    )


def check_source(spec: SpaceSpec) -> tuple[Check, dict[str, LocalFile] | None]:
    """The `source` folder exists; returns its files (after `ignore`) for the checks that follow."""
    assert spec.source is not None
    name = _label("source", spec)
    if not spec.source.is_dir():
        what = "is not a folder" if spec.source.exists() else "does not exist"
        return (
            Check(
                name,
                Verdict.FAIL,
                f"{spec.source} {what}",
                "fix `source:` (it is relative to the manifest) or create the folder",
            ),
            None,
        )
    try:
        files = desired_files(spec)
    except SpacectlError as exc:
        return Check(name, Verdict.FAIL, exc.message, exc.hint), None
    assert files is not None
    return Check(name, Verdict.PASS, f"{spec.source} ({len(files)} files)"), files


def check_dockerfile(spec: SpaceSpec, files: Mapping[str, LocalFile]) -> Check:
    """A Docker Space has a Dockerfile at the root, whose first instruction is FROM."""
    name = _label("dockerfile", spec)
    dockerfile = files.get("Dockerfile")
    if dockerfile is None:
        return Check(
            name,
            Verdict.FAIL,
            f"no Dockerfile in {spec.source}: the Hub will report NO_APP_FILE",
            "add a Dockerfile at the root of the source folder (FROM ..., then CMD serving "
            f"0.0.0.0:{DEFAULT_APP_PORT})",
        )
    text = dockerfile.read_bytes().decode("utf-8", "replace")
    first = next(
        (w for w in (_instruction(line) for line in _logical_lines(text)) if w != "ARG"), None
    )
    if first != "FROM":
        return Check(
            name,
            Verdict.FAIL,
            "the Dockerfile does not start with FROM: the build will fail (BUILD_ERROR)",
            "start the Dockerfile with a base image, e.g. `FROM python:3.12-slim`",
        )
    return Check(name, Verdict.PASS, "Dockerfile present, starts with FROM")


def dockerfile_ports(text: str) -> dict[int, str]:
    """Ports a Dockerfile says it serves, with where it says so.

    Pragmatic, not a Dockerfile interpreter: `EXPOSE` ports, `ENV PORT=N`, and in `CMD` /
    `ENTRYPOINT` a `--port N`, `--port=N`, `-p N`, `--server.port N` (Streamlit) or
    `--bind HOST:N` / `-b HOST:N` (gunicorn). Variables (`$PORT`) are not expanded.
    """
    ports: dict[int, str] = {}
    for line in _logical_lines(text):
        word = _instruction(line)
        rest = line.strip()[len(word) :].strip() if word else ""
        if word == "EXPOSE":
            for item in rest.split():
                number = item.split("/", 1)[0]
                if number.isdigit():
                    ports.setdefault(int(number), "EXPOSE")
        elif word == "ENV":
            match = re.search(r"\bPORT(?:=|\s+)(\d+)\b", rest)
            if match:
                ports.setdefault(int(match.group(1)), "ENV PORT")
        elif word in ("CMD", "ENTRYPOINT"):
            for port in _command_ports(rest):
                ports.setdefault(port, word)
    return ports


def _command_ports(command: str) -> list[int]:
    if command.startswith("["):
        tokens = re.findall(r'"((?:[^"\\]|\\.)*)"', command)
    else:
        try:
            tokens = shlex.split(command)
        except ValueError:
            tokens = command.split()
    words = [piece for token in tokens for piece in token.split()]  # `sh -c "uvicorn ..."`
    found: list[int] = []
    for index, word in enumerate(words):
        value: str | None = None
        if word in ("--port", "-p", "--server.port"):
            value = words[index + 1] if index + 1 < len(words) else None
        elif word.startswith(("--port=", "--server.port=")):
            value = word.split("=", 1)[1]
        elif word in ("--bind", "-b") and index + 1 < len(words):
            value = words[index + 1].rsplit(":", 1)[-1]
        elif word.startswith("--bind="):
            value = word.rsplit(":", 1)[-1]
        if value is not None and value.isdigit():
            found.append(int(value))
    return found


def check_port(
    spec: SpaceSpec, files: Mapping[str, LocalFile], front_matter: Mapping[str, Any]
) -> Check:
    """The port the Dockerfile serves is `app_port` of the README.md that will be committed
    (the manifest's card merged into the source's front matter; default 7860)."""
    name = _label("port", spec)
    declared = front_matter.get("app_port")
    app_port = declared if isinstance(declared, int) else DEFAULT_APP_PORT
    where = "app_port" if isinstance(declared, int) else "default app_port"
    dockerfile = files.get("Dockerfile")
    if dockerfile is None:
        return Check(name, Verdict.WARN, "no Dockerfile to read the port from", None)
    ports = dockerfile_ports(dockerfile.read_bytes().decode("utf-8", "replace"))
    if not ports:
        return Check(
            name,
            Verdict.WARN,
            f"cannot tell which port the Dockerfile serves; the Hub sends traffic to {app_port} "
            f"({where})",
            f"add `EXPOSE {app_port}` and make the app listen on 0.0.0.0:{app_port}",
        )
    if app_port in ports:
        return Check(name, Verdict.PASS, f"serves {app_port} ({ports[app_port]}), the {where}")
    served = ", ".join(f"{port} ({how})" for port, how in ports.items())
    first = next(iter(ports))
    return Check(
        name,
        Verdict.FAIL,
        f"the Dockerfile serves {served}, but the Hub sends traffic to {app_port} ({where})",
        f"set `card: {{app_port: {first}}}` in the manifest, or make the app listen on "
        f"0.0.0.0:{app_port}",
    )


def check_readme(
    spec: SpaceSpec, files: Mapping[str, LocalFile] | None, hub: CatalogPort | None
) -> Check | None:
    """The README.md spacectl will commit has front matter the Hub accepts (validated by the
    Hub itself, unless `hub` is None) and names an SDK. None when spacectl does not write
    README.md."""
    name = _label("readme", spec)
    text = readme_text(spec, files)
    if text is None and files is None:
        return None
    if text is None:
        return Check(
            name,
            Verdict.WARN,
            "no README.md in the source and no sdk/card in the manifest: the Space keeps the "
            "README it has on the Hub, which must name the sdk",
            "set `sdk:` on the Space (spacectl then writes the README front matter)",
        )
    try:
        front = readme_front_matter(text)
    except SpacectlError as exc:
        return Check(name, Verdict.FAIL, exc.message, "fix the YAML between the `---` lines")
    if not front.get("sdk"):
        return Check(
            name,
            Verdict.FAIL,
            "the README front matter has no sdk: the Hub will report CONFIG_ERROR",
            "set `sdk:` on the Space in the manifest",
        )
    if hub is None:
        return Check(
            name, Verdict.WARN, "not validated: the Hub is unreachable", "run doctor again online"
        )
    try:
        verdict = hub.validate_readme(text)
    except HubError as exc:
        return Check(name, Verdict.WARN, f"could not validate on the Hub: {exc.message}", exc.hint)
    if verdict.errors:
        return Check(
            name,
            Verdict.FAIL,
            f"the Hub rejects the front matter: {'; '.join(verdict.errors)}",
            "fix the card in the manifest or the front matter of README.md",
        )
    if verdict.warnings:
        return Check(
            name,
            Verdict.WARN,
            f"the Hub accepts the front matter with warnings: {'; '.join(verdict.warnings)}",
            "see https://huggingface.co/docs/hub/spaces-config-reference",
        )
    return Check(name, Verdict.PASS, f"front matter valid for the Hub (sdk {front['sdk']})")


def check_hardware(spec: SpaceSpec, flavors: list[str] | Exception) -> Check:
    """The requested hardware is one of the Hub's flavours."""
    name = _label("hardware", spec)
    assert spec.hardware is not None
    if isinstance(flavors, Exception):
        message = flavors.message if isinstance(flavors, SpacectlError) else str(flavors)
        return Check(name, Verdict.WARN, f"could not list the Hub's hardware: {message}", None)
    if spec.hardware in flavors:
        return Check(name, Verdict.PASS, f"{spec.hardware} exists")
    close = difflib.get_close_matches(spec.hardware, flavors, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"one of {', '.join(flavors)}"
    return Check(
        name,
        Verdict.FAIL,
        f"unknown hardware '{spec.hardware}'",
        f"use a flavour the Hub lists: {hint}",
    )


def check_free_hardware(spec: SpaceSpec) -> Check | None:
    """Free cpu-basic (also what a Space gets without `hardware`) sleeps and forgets."""
    if spec.hardware not in (None, FREE_HARDWARE):
        return None
    which = FREE_HARDWARE if spec.hardware else f"{FREE_HARDWARE} (no hardware set)"
    return Check(
        _label("platform limits", spec),
        Verdict.WARN,
        f"{which} sleeps after 48 h without visitors and its disk is ephemeral (files written "
        "at runtime are lost on restart)",
        "for an always-on Space use paid hardware with `sleep_time: -1`; keep data in a volume "
        "(bucket) or a dataset, not on the local disk",
    )


def check_database_ports(spec: SpaceSpec, files: Mapping[str, LocalFile]) -> Check:
    """Source files that connect to database ports (URLs like postgres://, or :5432)."""
    name = _label("database ports", spec)
    hits: list[str] = []
    for path, local in files.items():
        if local.size > _SCAN_TEXT_BYTES:
            continue
        data = local.read_bytes()
        if b"\0" in data[:BINARY_SNIFF_BYTES]:
            continue
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if _DB_URL.search(line) or _DB_PORT.search(line):
                hits.append(f"{path}:{number}")
    if not hits:
        return Check(name, Verdict.PASS, "no connection to a database port found")
    shown = ", ".join(hits[:3]) + (f" and {len(hits) - 3} more" if len(hits) > 3 else "")
    ports = ", ".join(f"{port} ({db})" for port, db in DATABASE_PORTS.items())
    return Check(
        name,
        Verdict.WARN,
        f"database connection(s) at {shown}: outbound connections to database ports ({ports}) "
        "are unreliable from Spaces",
        "reach the data over HTTPS instead (the database's HTTP/REST API, or a service in front "
        "of it), or keep the data in a Hub dataset or volume",
    )


def check_large_files(spec: SpaceSpec, files: Mapping[str, LocalFile]) -> Check:
    """Files the Hub stores as large files: binary (a NUL byte early on) or 10 MiB and more."""
    name = _label("large files", spec)
    large = [path for path, local in files.items() if _is_large(local)]
    if not large:
        return Check(name, Verdict.PASS, "no binary or 10 MiB+ file")
    shown = ", ".join(large[:5]) + (f" and {len(large) - 5} more" if len(large) > 5 else "")
    return Check(
        name,
        Verdict.WARN,
        f"{len(large)} file(s) will be stored as large files (LFS/Xet): {shown}",
        "fine for images and weights; each version stays in the Space's history, so keep big "
        "data in a model/dataset repository or a volume and `ignore` it here",
    )


def _is_large(local: LocalFile) -> bool:
    if local.size >= LARGE_FILE_BYTES:
        return True
    if local.source_path is not None:
        with local.source_path.open("rb") as handle:
            head = handle.read(BINARY_SNIFF_BYTES)
    else:
        head = local.read_bytes()[:BINARY_SNIFF_BYTES]
    return b"\0" in head


def _logical_lines(text: str) -> list[str]:
    """Dockerfile lines with `\\` continuations joined and comments dropped."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        out.append(pending + stripped)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _instruction(line: str) -> str:
    parts = line.strip().split(None, 1)
    return parts[0].upper() if parts else ""
