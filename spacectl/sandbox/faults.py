"""Fault injection (latency, errors, connection resets, lost responses, a rate limit) and the
request log.

`FaultMiddleware` wraps the whole ASGI app. Requests under `/_sandbox/` (the control API) are
neither faulted nor logged; every other request is logged, including faulted ones, with sizes and
timing but never its headers or body (they carry tokens and secret values): the caller's token
appears only as a fingerprint (`records.token_fingerprint`).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spacectl.sandbox.httputil import http_date, request_id
from spacectl.sandbox.records import token_fingerprint

CONTROL_PREFIX = "/_sandbox/"
_MAX_LOG_ENTRIES = 100_000


@dataclass
class RateLimit:
    """At most `requests` API requests per fixed window of `window_seconds`."""

    requests: int
    window_seconds: float


@dataclass
class FaultSettings:
    """What to inject, changeable live through `PUT /_sandbox/faults`."""

    latency_ms: int = 0
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=lambda: [500, 502, 503])
    reset_rate: float = 0.0
    lost_response_rate: float = 0.0
    lose_next: int = 0
    only_paths: str | None = None
    rate_limit: RateLimit | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "error_statuses": self.error_statuses,
            "reset_rate": self.reset_rate,
            "lost_response_rate": self.lost_response_rate,
            "lose_next": self.lose_next,
            "only_paths": self.only_paths,
            "rate_limit": None
            if self.rate_limit is None
            else {
                "requests": self.rate_limit.requests,
                "window_seconds": self.rate_limit.window_seconds,
            },
        }

    def updated(self, changes: dict[str, Any]) -> FaultSettings:
        """A copy with `changes` (the JSON of `PUT /_sandbox/faults`) applied; ValueError if bad."""
        unknown = set(changes) - set(self.to_json())
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        result = FaultSettings(
            latency_ms=self.latency_ms,
            error_rate=self.error_rate,
            error_statuses=list(self.error_statuses),
            reset_rate=self.reset_rate,
            lost_response_rate=self.lost_response_rate,
            lose_next=self.lose_next,
            only_paths=self.only_paths,
            rate_limit=self.rate_limit,
        )
        if "latency_ms" in changes:
            result.latency_ms = int(changes["latency_ms"])
            if result.latency_ms < 0:
                raise ValueError("latency_ms must be >= 0")
        for name in ("error_rate", "reset_rate", "lost_response_rate"):
            if name in changes:
                rate = float(changes[name])
                if not 0.0 <= rate <= 1.0:
                    raise ValueError(f"{name} must be between 0 and 1")
                setattr(result, name, rate)
        if "lose_next" in changes:
            result.lose_next = int(changes["lose_next"])
            if result.lose_next < 0:
                raise ValueError("lose_next must be >= 0")
        if "only_paths" in changes:
            value = changes["only_paths"]
            result.only_paths = str(value) if value else None
        if "error_statuses" in changes:
            result.error_statuses = parse_statuses(changes["error_statuses"])
        if "rate_limit" in changes:
            limit = changes["rate_limit"]
            if limit is None:
                result.rate_limit = None
            elif isinstance(limit, str):
                result.rate_limit = parse_rate_limit(limit)
            elif isinstance(limit, dict):
                result.rate_limit = _checked_limit(
                    int(limit["requests"]), float(limit["window_seconds"])
                )
            else:
                raise ValueError(
                    "rate_limit must be null, 'N/SECONDS' or {requests, window_seconds}"
                )
        return result


def parse_statuses(value: str | list[int]) -> list[int]:
    """`"500,502,503"` (or a list) as status codes; each must be a 4xx or 5xx."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        statuses = [int(str(item).strip()) for item in items if str(item).strip()]
    except ValueError:
        raise ValueError(f"error statuses must be comma-separated numbers, not {value!r}") from None
    if not statuses or any(not 400 <= s <= 599 for s in statuses):
        raise ValueError(f"error statuses must be HTTP error codes (400-599), not {value!r}")
    return statuses


def parse_rate_limit(value: str) -> RateLimit:
    """`N/SECONDS`, e.g. `100/60`."""
    requests, sep, seconds = value.partition("/")
    try:
        if not sep:
            raise ValueError
        return _checked_limit(int(requests), float(seconds))
    except ValueError:
        raise ValueError(
            f"rate limit must look like N/SECONDS (e.g. 100/60), not {value!r}"
        ) from None


def _checked_limit(requests: int, seconds: float) -> RateLimit:
    if requests < 1 or seconds <= 0:
        raise ValueError("rate limit needs at least 1 request per a positive window")
    return RateLimit(requests=requests, window_seconds=seconds)


class RequestLog:
    """A thread-safe list of served API requests (oldest first, bounded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)
            if len(self._entries) > _MAX_LOG_ENTRIES:
                del self._entries[: len(self._entries) - _MAX_LOG_ENTRIES]

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _bearer_fingerprint(scope: Scope) -> str | None:
    """The fingerprint of the request's `Authorization: Bearer TOKEN`, None without one."""
    for key, value in scope.get("headers", []):
        if key.lower() == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token_fingerprint(token.strip())
    return None


class InjectedReset(Exception):
    """Raised to drop a connection when the server's transport is not reachable."""


class FaultMiddleware:
    """Applies the fault settings (`settings()`, read afresh for every request, so that they
    change live) to every non-control HTTP request and records it in `log`."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Callable[[], FaultSettings],
        log: RequestLog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.settings = settings
        self.log = log
        self.clock = clock
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._window_count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.time()
        counters = {"request_bytes": 0, "response_bytes": 0, "status": 0}

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                counters["request_bytes"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counters["status"] = message["status"]
            elif message["type"] == "http.response.body":
                counters["response_bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self._serve(scope, counting_receive, counting_send, send)
        finally:
            raw_path = scope.get("raw_path") or scope["path"].encode()
            self.log.add(
                {
                    "method": scope["method"],
                    "path": raw_path.decode("latin-1"),
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": counters["status"] or None,
                    "request_bytes": counters["request_bytes"],
                    "response_bytes": counters["response_bytes"],
                    "duration_ms": round((time.time() - started) * 1000, 1),
                    "time": started,
                    "token": _bearer_fingerprint(scope),
                }
            )

    async def _serve(self, scope: Scope, receive: Receive, send: Send, raw_send: Send) -> None:
        settings = self.settings()
        if settings.only_paths and settings.only_paths not in scope["path"]:
            await self.app(scope, receive, send)
            return
        if settings.latency_ms:
            await asyncio.sleep(settings.latency_ms / 1000)
        limited = self._rate_limit_headers(settings.rate_limit)
        if limited is not None and limited[0]:
            await _send_json(send, 429, _RATE_LIMIT_MESSAGE, limited[1], self.clock())
            return
        if settings.reset_rate and random.random() < settings.reset_rate:
            await _reset(raw_send)
            return
        if settings.error_rate and random.random() < settings.error_rate:
            status = random.choice(settings.error_statuses)
            await _send_json(
                send,
                status,
                f"Injected fault: HTTP {status} from the Hub sandbox",
                [],
                self.clock(),
            )
            return
        if self._take_lost(settings) or (
            settings.lost_response_rate and random.random() < settings.lost_response_rate
        ):
            # The request is carried out, then the connection drops before the answer: the
            # client cannot tell whether a write landed, the case where a retry could repeat it.
            await self.app(scope, receive, _discard)
            await _reset(raw_send)
            return
        extra = [] if limited is None else limited[1]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _take_lost(self, settings: FaultSettings) -> bool:
        """Count down `lose_next`: True for each of the next N requests."""
        with self._lock:
            if settings.lose_next > 0:
                settings.lose_next -= 1
                return True
        return False

    def _rate_limit_headers(
        self, limit: RateLimit | None
    ) -> tuple[bool, list[tuple[bytes, bytes]]] | None:
        """Count this request; return (over the limit?, RateLimit headers) or None if no limit."""
        if limit is None:
            return None
        with self._lock:
            now = time.time()
            if now - self._window_start >= limit.window_seconds:
                self._window_start = now
                self._window_count = 0
            self._window_count += 1
            over = self._window_count > limit.requests
            remaining = max(limit.requests - self._window_count, 0)
            reset = max(math.ceil(self._window_start + limit.window_seconds - now), 1)
        headers = [
            (b"ratelimit", f'"api";r={remaining};t={reset}'.encode()),
            (
                b"ratelimit-policy",
                (
                    f'"fixed window";"api";q={limit.requests};w={_number(limit.window_seconds)}'
                ).encode(),
            ),
        ]
        if over:
            headers.append((b"retry-after", str(reset).encode()))
        return over, headers


_RATE_LIMIT_MESSAGE = (
    "You have exceeded our rate limit for 'api' requests. Retry after the delay in the "
    "RateLimit header."
)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


async def _send_json(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]], now: float
) -> None:
    """A Hub-style error answer (`{"error"}`, `X-Error-Message`, a request id, `Date` on the
    sandbox's clock) sent before the request reaches the app."""
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"x-error-message", message.encode()),
                (b"x-request-id", request_id().encode()),
                (b"date", http_date(now).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _discard(message: Message) -> None:
    """An ASGI `send` that drops the response (see `lost_response_rate`)."""


async def _reset(send: Send) -> None:
    """Drop the connection without an answer.

    uvicorn passes its per-request cycle's bound `send`; aborting that cycle's transport closes
    the socket like a reset. Waiting a tick lets uvicorn see the disconnect, so it neither sends
    a 500 nor logs an error. Without a reachable transport, raising makes uvicorn close it.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise InjectedReset("injected connection reset")
    transport.abort()
    for _ in range(3):
        await asyncio.sleep(0)
