"""Run the Hub sandbox: `main` (the `spacectl sandbox serve` command), `serve` (blocking) and
`start_in_thread`.

Both bind the listening socket themselves, so `port=0` picks a free port that is known before
the first request, and announce the endpoint only once uvicorn accepts connections.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import uvicorn

# Public in uvicorn (`--http h11` names it); subclassed for how it closes a connection.
from uvicorn.protocols.http.h11_impl import H11Protocol

from spacectl.errors import ConfigError
from spacectl.sandbox.app import build_app
from spacectl.sandbox.config import SandboxConfig, SandboxOptions, parse_args
from spacectl.sandbox.context import Sandbox
from spacectl.sandbox.faults import InjectedReset
from spacectl.sandbox.models.oidc import Exchange, load_jwks
from spacectl.sandbox.records import new_token
from spacectl.sandbox.store import open_store

DEFAULT_USER = "user"


def build_sandbox(config: SandboxConfig) -> Sandbox:
    """The app with its store: persisted users and orgs, plus those of `config`.

    Without any user (none given and none persisted) one write user named `user` is created
    with a random token.
    """
    store = open_store(config.data)
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
        build_seconds=config.build_seconds,
        upload_mode=config.upload_mode,
        xet=config.xet,
        pages=config.pages,
    )
    options.create_seconds = config.create_seconds
    keys = load_jwks(config.oidc_jwks) if config.oidc_jwks is not None else None
    exchange = Exchange(keys, config.trusted_publishers)
    return Sandbox(store, options, config.faults, oidc=exchange)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on accepted sockets whose protocol
    # says TCP, and they inherit it from this one. Without it Nagle's algorithm holds a
    # response's second write until the client's delayed ACK: ~40 ms on every kept-alive request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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


_LINGER_SECONDS = 2.0


class _LingeringTransport:
    """A connection's transport whose `close` lingers, as nginx's does: it half-closes (the
    answer already written is flushed first), keeps discarding what the client still sends and
    closes for good when the client does or after _LINGER_SECONDS. Closing at once while request
    bytes are unread (a body answered early with a 401, 405 or 413, a malformed request's 400)
    resets the connection, and the client loses the answer on its way. Else the transport."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.lingering = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self.lingering or self._transport.is_closing()

    def close(self) -> None:
        transport = self._transport
        if self.lingering or transport.is_closing():
            return
        self.lingering = True
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        transport.resume_reading()
        asyncio.get_running_loop().call_later(_LINGER_SECONDS, transport.close)


class _LingeringH11(H11Protocol):
    """uvicorn's h11 protocol over a `_LingeringTransport`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        super().connection_made(cast(asyncio.Transport, _LingeringTransport(transport)))

    def _lingering(self) -> bool:
        return isinstance(self.transport, _LingeringTransport) and self.transport.lingering

    def data_received(self, data: bytes) -> None:
        if not self._lingering():
            super().data_received(data)

    def eof_received(self) -> None:
        if not self._lingering():  # else returning None lets asyncio close the socket now
            super().eof_received()


def _uvicorn_config(sandbox: Sandbox) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(_ResetFilter())
    return uvicorn.Config(
        build_app(sandbox),
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        date_header=False,  # RawPathMiddleware sends an exact one
        timeout_graceful_shutdown=2,
        http=_LingeringH11,
    )


def _user_lines(sandbox: Sandbox) -> list[str]:
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
    sandbox: Sandbox
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


def main(argv: Sequence[str]) -> None:
    """`spacectl sandbox serve ARGV`: serve until SIGINT/SIGTERM, printing the lines of `serve`.

    `--help` lists every flag. A bad flag, or a sandbox that cannot start, raises ConfigError
    (the CLI's error boundary makes it one `Error: ...` line and exit 1)."""
    serve(parse_args(argv), announce=lambda line: print(line, flush=True))
