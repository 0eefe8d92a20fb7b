"""HTTP as the Hub speaks it: JSON and error answers, request ids, pagination with `Link`
headers, request bodies, and routing on the raw path.

Routing happens on the raw request path: `RawPathMiddleware` puts the still-percent-encoded
path in `scope["path"]`, so a `%2F` inside a revision or a tree sub-path stays inside one path
parameter; handlers decode parameters with `param`. Errors follow the Hub's convention (JSON
`{"error": ...}` plus `X-Error-Message` and, where the client branches on it, `X-Error-Code`).
Every URL in a response is built from the request's Host header.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable
from email.utils import formatdate
from ipaddress import ip_address
from typing import Any
from urllib.parse import unquote, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spacectl.sandbox.errors import ApiError

JSON_TYPE = "application/json; charset=utf-8"


def request_id() -> str:
    """A fresh `X-Request-Id` in the Hub's format; the client shows it in its errors."""
    return f"Root=1-sandbox-{secrets.token_hex(8)}"


def http_date(at: float) -> str:
    """`at` (unix time) as an HTTP `Date` header."""
    return formatdate(at, usegmt=True)


def text_ok() -> Response:
    return Response(b"OK", media_type="text/plain; charset=utf-8")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    try:
        body = text.encode()
    except UnicodeEncodeError:  # a lone surrogate: sent as a JSON escape, never as raw bytes
        body = json.dumps(data, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)


# An error message echoes request input (a revision, a path): in a header it is printable ASCII
# only (a NUL or CR there makes the server drop the connection) and short.
_MAX_ERROR_HEADER = 1000


def error_response(error: ApiError) -> Response:
    shown = "".join(c if " " <= c <= "~" else "?" for c in error.message[:_MAX_ERROR_HEADER])
    headers = {"X-Error-Message": shown}
    if error.code:
        headers["X-Error-Code"] = error.code
    return json_response({"error": error.message, **error.extra}, error.status, headers)


def param(request: Request, name: str) -> str:
    """A path parameter, percent-decoded (the router matched it still encoded)."""
    return unquote(str(request.path_params[name]))


def repo_id(request: Request) -> str:
    """The `{ns}/{name}` of the path."""
    return f"{param(request, 'ns')}/{param(request, 'name')}"


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def space_url(request: Request, space_id: str) -> str:
    return f"{base_url(request)}/spaces/{space_id}"


def bool_arg(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true")


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


# -- pagination ------------------------------------------------------------------------------


def _next_link(request: Request, cursor: int) -> str:
    """An absolute `Link` header to the next page: the same query with a new cursor."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    params.append(("cursor", base64.urlsafe_b64encode(str(cursor).encode()).decode()))
    url = f"{base_url(request)}{request.scope['path']}?{urlencode(params)}"
    return f'<{url}>; rel="next"'


def _cursor(request: Request) -> int:
    raw = request.query_params.get("cursor")
    if raw is None:
        return 0
    try:
        return max(int(base64.urlsafe_b64decode(raw.encode()).decode()), 0)
    except (ValueError, binascii.Error):
        raise ApiError(400, "Invalid cursor") from None


def paginate(
    request: Request, items: list[Any], page_size: int
) -> tuple[list[Any], dict[str, str]]:
    """The page of `items` the request's `cursor` and `limit` ask for (at most `page_size`),
    and the headers to answer with: a `Link` to the next page if there is one."""
    start = _cursor(request)
    limit = request.query_params.get("limit")
    if limit is not None:
        try:
            page_size = max(1, min(int(limit), page_size))
        except ValueError:
            raise ApiError(400, "limit must be a number") from None
    page = items[start : start + page_size]
    headers = {}
    if start + page_size < len(items):
        headers["Link"] = _next_link(request, start + page_size)
    return page, headers


# -- request bodies --------------------------------------------------------------------------


# Bodies are read whole into memory (then parsed), so each is bounded: an API body (JSON, or an
# NDJSON commit with inline files) at MAX_BODY, an LFS upload at its announced size. A body over
# AUTH_BEFORE_BODY is read only once the caller's token is known (see app.py).
MAX_BODY = 64 << 20
AUTH_BEFORE_BODY = 1 << 20
MAX_JSON_DEPTH = 64


def parse_json(raw: bytes, what: str = "request body") -> Any:
    """JSON text as data; 400 when it is not JSON, nests deeper than MAX_JSON_DEPTH or holds a
    lone surrogate (which no answer or state file could encode later)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, f"Invalid JSON in {what}") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise ApiError(400, f"JSON in {what} is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ApiError(400, f"Invalid Unicode (a lone surrogate) in {what}") from None
    return data


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in _children(item))
    return deepest


def _children(item: dict[str, Any] | list[Any]) -> list[Any]:
    return list(item.values()) if isinstance(item, dict) else item


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 400 when it is not one."""
    data = parse_json(await request.body() or b"{}")
    if not isinstance(data, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return data


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length (None without one); 400 when it is not a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            if not value.strip().isdigit():
                raise ApiError(400, "Invalid Content-Length")
            return int(value)
    return None


class BodyLimitMiddleware:
    """Bounds every request body: over `limit(path)` is a 413, from Content-Length before any
    of it is read, or once a chunked body passes it. (The server's lingering close makes sure
    the client gets an answer sent before its body was read: server.py.)"""

    def __init__(self, app: ASGIApp, limit: Callable[[str], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ApiError(413, f"Request body larger than {limit} bytes")
            return message

        try:
            length = declared_length(scope)
            if length is not None and length > limit:
                raise ApiError(413, f"Request body larger than {limit} bytes")
        except ApiError as error:
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, counted, send)


def str_field(data: dict[str, Any], name: str) -> str:
    """A required non-empty string of a JSON body; 400 otherwise."""
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f'"{name}" is required and must be a non-empty string')
    return value


class RawPathMiddleware:
    """Routes on the raw path: percent-escapes stay inside one path segment until `param`.

    Also stamps every response with an `X-Request-Id`, which the client shows in its errors,
    and with an exact `Date` on the sandbox's clock (which `PUT /_sandbox/clock` advances):
    uvicorn's own is refreshed only once a second, and `fetch_space_logs` drops log events
    stamped later than `Date` + 1 s.
    """

    def __init__(self, app: ASGIApp, clock: Callable[[], float]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path")
        if raw:
            scope = {**scope, "path": raw.decode("latin-1").split("?", 1)[0]}
        rid = request_id().encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-request-id", rid), (b"date", http_date(self.clock()).encode())]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_id)
