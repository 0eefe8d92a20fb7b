"""Configure and run the Hub sandbox: `serve` (blocking, for the CLI) and `start_in_thread`.

Both bind the listening socket themselves, so `port=0` picks a free port that is known before
the first request, and announce the endpoint only once uvicorn accepts connections.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from spacectl.errors import ConfigError
from spacectl.sandbox.app import HubSandbox, PageSizes, SandboxOptions
from spacectl.sandbox.faults import (
    FaultSettings,
    InjectedReset,
    RateLimit,
    parse_rate_limit,
    parse_statuses,
)
from spacectl.sandbox.hub_data import repo_name_problem
from spacectl.sandbox.store import Store, new_token

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{4,}$")
DEFAULT_USER = "user"


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
class SandboxConfig:
    """Everything `serve` and `start_in_thread` need; build it with `from_cli` from user input."""

    host: str = "127.0.0.1"
    port: int = 0
    data: Path | None = None
    users: list[UserSpec] = field(default_factory=list)
    orgs: list[OrgSpec] = field(default_factory=list)
    build_seconds: float = 2.0
    upload_mode: str = "auto"
    faults: FaultSettings = field(default_factory=FaultSettings)
    pages: PageSizes = field(default_factory=PageSizes)

    @classmethod
    def from_cli(
        cls,
        *,
        host: str,
        port: int,
        data: Path | None,
        users: list[str],
        orgs: list[str],
        build_seconds: float,
        upload_mode: str,
        latency_ms: int,
        error_rate: float,
        error_statuses: str,
        reset_rate: float,
        rate_limit: str | None,
        lost_response_rate: float = 0.0,
    ) -> SandboxConfig:
        """Parse the `spacectl sandbox serve` flags; ConfigError with a one-line reason if bad."""
        if not 0 <= port <= 65535:
            raise ConfigError(f"--port must be between 0 and 65535, not {port}")
        if build_seconds < 0:
            raise ConfigError("--build-seconds must be >= 0")
        if upload_mode not in ("auto", "regular"):
            raise ConfigError(f"--upload-mode must be auto or regular, not {upload_mode!r}")
        if latency_ms < 0:
            raise ConfigError("--latency-ms must be >= 0")
        for flag, rate in (
            ("--error-rate", error_rate),
            ("--reset-rate", reset_rate),
            ("--lost-response-rate", lost_response_rate),
        ):
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(f"{flag} must be between 0 and 1, not {rate}")
        try:
            statuses = parse_statuses(error_statuses)
            limit: RateLimit | None = parse_rate_limit(rate_limit) if rate_limit else None
        except ValueError as error:
            raise ConfigError(str(error)) from None
        user_specs = [_parse_user(value) for value in users]
        names = {u.name for u in user_specs}
        org_specs = [_parse_org(value) for value in orgs]
        for org in org_specs:
            if org.name in names:
                raise ConfigError(f"--org {org.name}: a user has that name already")
        return cls(
            host=host,
            port=port,
            data=data,
            users=user_specs,
            orgs=org_specs,
            build_seconds=build_seconds,
            upload_mode=upload_mode,
            faults=FaultSettings(
                latency_ms=latency_ms,
                error_rate=error_rate,
                error_statuses=statuses,
                reset_rate=reset_rate,
                lost_response_rate=lost_response_rate,
                rate_limit=limit,
            ),
        )


def _parse_user(value: str) -> UserSpec:
    parts = value.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise ConfigError(f"--user must look like NAME:TOKEN[:read|write], not {value!r}")
    name, token = parts[0], parts[1]
    role = parts[2] if len(parts) == 3 else "write"
    if repo_name_problem(name):
        raise ConfigError(f"--user {value!r}: {name!r} is not a valid Hub user name")
    if not _TOKEN_RE.match(token):
        raise ConfigError(f"--user {name}: the token must be 4+ letters, digits, '-' or '_'")
    if role not in ("read", "write"):
        raise ConfigError(f"--user {name}: the role must be read or write, not {role!r}")
    return UserSpec(name=name, token=token, role=role)


def _parse_org(value: str) -> OrgSpec:
    name, sep, members = value.partition(":")
    member_list = tuple(m.strip() for m in members.split(",") if m.strip())
    if not sep or not name or not member_list:
        raise ConfigError(f"--org must look like ORG:MEMBER[,MEMBER...], not {value!r}")
    if repo_name_problem(name):
        raise ConfigError(f"--org {value!r}: {name!r} is not a valid Hub organization name")
    return OrgSpec(name=name, members=member_list)


def build_sandbox(config: SandboxConfig) -> HubSandbox:
    """The app with its store: persisted users and orgs, plus those of `config`.

    Without any user (none given and none persisted) one write user named `user` is created
    with a random token.
    """
    try:
        store = Store(config.data)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot use --data {config.data}: {error}") from None
    for user in config.users:
        store.add_user(user.name, user.token, user.role)
    if not store.tokens:
        store.add_user(DEFAULT_USER, new_token(), "write")
    for org in config.orgs:
        unknown = [m for m in org.members if m not in store.users]
        if unknown:
            raise ConfigError(f"--org {org.name}: unknown member(s) {', '.join(unknown)}")
        store.add_org(org.name, list(org.members))
    options = SandboxOptions(
        build_seconds=config.build_seconds, upload_mode=config.upload_mode, pages=config.pages
    )
    return HubSandbox(store, options, config.faults)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _endpoint(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _ResetFilter(logging.Filter):
    """Keeps uvicorn from logging an injected connection reset as an application error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedReset))


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_started()


def _uvicorn_config(sandbox: HubSandbox) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(_ResetFilter())
    return uvicorn.Config(
        sandbox.asgi,
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        date_header=False,  # RawPathMiddleware sends an exact one
        timeout_graceful_shutdown=2,
    )


def _user_lines(sandbox: HubSandbox) -> list[str]:
    with sandbox.store.transaction() as st:
        return [f"user {t.user} token {token} ({t.role})" for token, t in st.tokens.items()]


def serve(config: SandboxConfig, announce: Callable[[str], None]) -> None:
    """Serve until SIGINT/SIGTERM. Once connections are accepted, `announce` gets the line
    `Hub sandbox listening on http://HOST:PORT`, then one `user NAME token TOKEN (ROLE)` line
    per token."""
    sandbox = build_sandbox(config)
    sock = _bind(config.host, config.port)

    def started() -> None:
        announce(f"Hub sandbox listening on {_endpoint(sock)}")
        for line in _user_lines(sandbox):
            announce(line)

    server = _Server(_uvicorn_config(sandbox), started)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


@dataclass
class RunningSandbox:
    """A sandbox served by a daemon thread of this process."""

    endpoint: str
    users: dict[str, str]  # user name -> token (the first token of each user)
    sandbox: HubSandbox
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def token(self) -> str:
        """The token of the first user."""
        return next(iter(self.users.values()))

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def start_in_thread(config: SandboxConfig) -> RunningSandbox:
    """Start a sandbox in a daemon thread and return once it accepts connections."""
    sandbox = build_sandbox(config)
    sock = _bind(config.host, config.port)
    ready = threading.Event()
    server = _Server(_uvicorn_config(sandbox), ready.set)

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        finally:
            sock.close()
            ready.set()

    thread = threading.Thread(target=run, name="hub-sandbox", daemon=True)
    thread.start()
    if not ready.wait(timeout=30) or not server.started:
        raise ConfigError("the Hub sandbox did not start")
    users: dict[str, str] = {}
    with sandbox.store.transaction() as st:
        for token, t in st.tokens.items():
            users.setdefault(t.user, token)
    return RunningSandbox(_endpoint(sock), users, sandbox, server, thread)
