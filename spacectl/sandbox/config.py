"""How a sandbox is configured: the `spacectl sandbox serve` flags, declared once in `FLAGS`,
and the settings they produce (`SandboxConfig` at start, `SandboxOptions` changeable live).

A flag is one row of `FLAGS`: its name, how its value is read, its help, and the field of
`SandboxConfig` (or of `FaultSettings`) it sets; its default is that field's default. Adding a
flag is adding a field and a row.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from spacectl.errors import ConfigError
from spacectl.sandbox.faults import FaultSettings, parse_rate_limit, parse_statuses
from spacectl.sandbox.hub_data import repo_name_problem
from spacectl.sandbox.models.oidc import TrustedPublisher, parse_trusted_publisher

UPLOAD_MODES = ("auto", "regular")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{4,}$")


@dataclass(frozen=True)
class UserSpec:
    """A token to create at start: user name, token, role ("read" or "write").

    A user may have several tokens (e.g. one write and one read-only)."""

    name: str
    token: str
    role: str = "write"


@dataclass(frozen=True)
class OrgSpec:
    name: str
    members: tuple[str, ...]


@dataclass
class PageSizes:
    """Page sizes of paginated listings; small values exercise the client's pagination."""

    spaces: int = 50
    tree: int = 1000
    tree_expand: int = 50
    commits: int = 50


@dataclass
class SandboxOptions:
    """Behaviour settings that can change live through `PUT /_sandbox/config`."""

    build_seconds: float = 2.0
    upload_mode: str = "auto"  # auto | regular
    xet: bool = True  # the Xet token routes and CAS answer (off: 501 and 404, no Xet storage)
    pages: PageSizes = field(default_factory=PageSizes)
    # How long a create_repo takes; the Hub refuses (409) a user's create while another runs.
    create_seconds: float = 0.05

    def to_json(self) -> dict[str, Any]:
        return {
            "build_seconds": self.build_seconds,
            "create_seconds": self.create_seconds,
            "upload_mode": self.upload_mode,
            "xet": self.xet,
            "page_size": dataclasses.asdict(self.pages),
        }


@dataclass
class SandboxConfig:
    """Everything `serve` and `start_in_thread` need; `parse_args` builds it from the flags."""

    host: str = "127.0.0.1"
    port: int = 0
    data: Path | None = None
    users: list[UserSpec] = field(default_factory=list)
    orgs: list[OrgSpec] = field(default_factory=list)
    build_seconds: float = SandboxOptions.build_seconds
    upload_mode: str = SandboxOptions.upload_mode
    xet: bool = SandboxOptions.xet
    faults: FaultSettings = field(default_factory=FaultSettings)
    pages: PageSizes = field(default_factory=PageSizes)
    create_seconds: float = SandboxOptions.create_seconds
    trusted_publishers: list[TrustedPublisher] = field(default_factory=list)
    oidc_jwks: Path | None = None


# -- reading flag values: each raises ValueError with the reason ---------------------------------


def _number(kind: Callable[[str], Any], value: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"must be a number, not {value!r}") from None


def _port(value: str) -> int:
    port: int = _number(int, value)
    if not 0 <= port <= 65535:
        raise ValueError(f"must be between 0 and 65535, not {port}")
    return port


def _non_negative(kind: Callable[[str], float]) -> Callable[[str], Any]:
    def read(value: str) -> float:
        number: float = _number(kind, value)
        if number < 0:
            raise ValueError(f"must be >= 0, not {value}")
        return number

    return read


def _fraction(value: str) -> float:
    rate: float = _number(float, value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"must be between 0 and 1, not {rate}")
    return rate


def _upload_mode(value: str) -> str:
    if value not in UPLOAD_MODES:
        raise ValueError(f"must be auto or regular, not {value!r}")
    return value


def _on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise ValueError(f"must be on or off, not {value!r}")
    return value == "on"


def _user(value: str) -> UserSpec:
    parts = value.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise ValueError(f"must look like NAME:TOKEN[:read|write], not {value!r}")
    name, token = parts[0], parts[1]
    role = parts[2] if len(parts) == 3 else "write"
    if repo_name_problem(name):
        raise ValueError(f"{name!r} is not a valid Hub user name")
    if not _TOKEN_RE.match(token):
        raise ValueError(f"{name}: the token must be 4+ letters, digits, '-' or '_'")
    if role not in ("read", "write"):
        raise ValueError(f"{name}: the role must be read or write, not {role!r}")
    return UserSpec(name=name, token=token, role=role)


def _org(value: str) -> OrgSpec:
    name, sep, members = value.partition(":")
    member_list = tuple(m.strip() for m in members.split(",") if m.strip())
    if not sep or not name or not member_list:
        raise ValueError(f"must look like ORG:MEMBER[,MEMBER...], not {value!r}")
    if repo_name_problem(name):
        raise ValueError(f"{name!r} is not a valid Hub organization name")
    return OrgSpec(name=name, members=member_list)


# -- the flags -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One flag of `spacectl sandbox serve`.

    It sets `field` (the flag's name with `_` for `-` unless given) of `SandboxConfig`, or of its
    `FaultSettings` with `faults`, whose default is the flag's; `read` turns the text into the
    value. A `repeat` flag may be given several times and sets a list.
    """

    name: str
    read: Callable[[str], Any]
    help: str
    metavar: str
    faults: bool = False
    repeat: bool = False
    field: str = ""

    @property
    def target(self) -> str:
        return self.field or self.name.lstrip("-").replace("-", "_")

    def default(self) -> Any:
        owner = FaultSettings if self.faults else SandboxConfig
        spec = next(f for f in dataclasses.fields(owner) if f.name == self.target)
        if spec.default_factory is not dataclasses.MISSING:
            return spec.default_factory()
        return spec.default


FLAGS: tuple[Flag, ...] = (
    Flag("--host", str, "Interface to listen on (loopback).", "HOST"),
    Flag("--port", _port, "Port; 0 picks a free one.", "PORT"),
    Flag("--data", Path, "Folder for persistent state; in memory when omitted.", "DIR"),
    Flag("--user", _user, "A user and a token of it; repeatable.", "NAME:TOKEN[:read|write]",
         repeat=True, field="users"),
    Flag("--org", _org, "An organization and its members; repeatable.", "ORG:MEMBER[,MEMBER...]",
         repeat=True, field="orgs"),
    Flag("--build-seconds", _non_negative(float), "Simulated build time of an SDK Space.",
         "SECONDS"),
    Flag("--create-seconds", _non_negative(float),
         "Time a repo creation takes; a user's overlapping creates get the Hub's 409.",
         "SECONDS"),
    Flag("--upload-mode", _upload_mode,
         "auto: LFS for binary or large files like the Hub; regular: never LFS, a test mode "
         "the Hub does not have (binaries travel as regular files).", "auto|regular"),
    Flag("--xet", _on_off, "Xet storage for large files, as on the Hub; off: its token routes "
         "answer 501 (clients then need HF_HUB_DISABLE_XET=1).", "on|off"),
    Flag("--latency-ms", _non_negative(int), "Injected latency per request.", "MS", faults=True),
    Flag("--error-rate", _fraction, "Fraction of API requests that fail.", "RATE", faults=True),
    Flag("--error-statuses", parse_statuses, "Comma-separated statuses for injected errors.",
         "CODES", faults=True),
    Flag("--reset-rate", _fraction, "Fraction of connections reset.", "RATE", faults=True),
    Flag("--lost-response-rate", _fraction,
         "Fraction of requests carried out whose answer is then lost.", "RATE", faults=True),
    Flag("--rate-limit", parse_rate_limit, "At most N API requests per window.", "N/SECONDS",
         faults=True),
    Flag("--trusted-publisher", parse_trusted_publisher,
         "A Space trusts id tokens of ISSUER with subject SUBJECT (space-separated); repeatable.",
         "'SPACE ISSUER SUBJECT'", repeat=True, field="trusted_publishers"),
    Flag("--oidc-jwks", Path, "The issuers' public keys (a JWKS document) for id tokens.", "FILE"),
)  # fmt: skip


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as a `ConfigError` (one line, exit 1) instead of
    printing the usage and exiting 2."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


def _shown(value: Any) -> str | None:
    if value is None or value == []:
        return None
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def parser() -> argparse.ArgumentParser:
    """The argument parser of `spacectl sandbox serve`, built from `FLAGS`."""
    result = _Parser(
        prog="spacectl sandbox serve",
        description=(
            "Serve a local Hub for Spaces until SIGINT/SIGTERM; prints the endpoint URL once "
            "ready. See docs/sandbox.md."
        ),
        allow_abbrev=False,
    )
    for flag in FLAGS:
        shown = _shown(flag.default())
        result.add_argument(
            flag.name,
            dest=flag.target,
            action="append" if flag.repeat else "store",
            metavar=flag.metavar,
            help=flag.help + (f" (default: {shown})" if shown is not None else ""),
        )
    return result


def parse_args(argv: Sequence[str]) -> SandboxConfig:
    """The configuration the flags in `argv` ask for; ConfigError with a one-line reason if bad."""
    given = vars(parser().parse_args(list(argv)))
    values: dict[bool, dict[str, Any]] = {False: {}, True: {}}
    for flag in FLAGS:
        raw = given[flag.target]
        if raw is None:
            continue
        try:
            value = [flag.read(item) for item in raw] if flag.repeat else flag.read(raw)
        except ValueError as error:
            raise ConfigError(f"{flag.name}: {error}") from None
        values[flag.faults][flag.target] = value
    config = SandboxConfig(**values[False], faults=FaultSettings(**values[True]))
    names = {user.name for user in config.users}
    for org in config.orgs:
        if org.name in names:
            raise ConfigError(f"--org {org.name}: a user has that name already")
    return config
