"""Client exceptions translated into spacectl's error tree at the boundary, each with the next step
as hint; and the retry delay the Hub asks for (`Retry-After`, `RateLimit`)."""

from __future__ import annotations

import httpx2
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    LocalTokenNotFoundError,
    OIDCError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
)

# Public (huggingface_hub.utils.__all__), but that list is built at run time, out of mypy's sight.
from huggingface_hub.utils import (  # type: ignore[attr-defined]
    parse_ratelimit_headers,
)

from spacectl.errors import (
    AuthError,
    ConflictError,
    HubError,
    NotFoundError,
    TransientHubError,
)
from spacectl.hub.client import _no_token, _oidc_error

_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class _Retryable(Exception):
    def __init__(self, error: TransientHubError, wait: float | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.wait = wait


def _retry_after(response: httpx2.Response | None) -> float | None:
    if response is None:
        return None
    info = parse_ratelimit_headers(response.headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds) + 1
    value = response.headers.get("Retry-After")
    if value and value.strip().isdigit():
        return float(value) + 1
    return None


def translate(exc: BaseException, *, what: str, endpoint: str) -> HubError:
    """Map a client exception to spacectl's error tree with the next step as hint."""
    if isinstance(exc, HubError):
        return exc
    if isinstance(exc, LocalTokenNotFoundError):
        return _no_token()
    if isinstance(exc, OIDCError):
        return _oidc_error(exc)
    if isinstance(exc, RepositoryNotFoundError):
        return NotFoundError(
            f"{what}: not found, or not visible to this token",
            status=404,
            hint="check the Space name and that the token can read it (`spacectl doctor`)",
        )
    if isinstance(exc, RemoteEntryNotFoundError):
        return NotFoundError(f"{what}: file not found on the Hub", status=404)
    if isinstance(exc, HfHubHTTPError):
        response = exc.response
        status = response.status_code if response is not None else None
        server = (exc.server_message or str(exc).splitlines()[0]).strip()
        if status == 401:
            return AuthError(
                f"{what}: the token was rejected (401): {server}",
                status=401,
                hint="set HF_TOKEN to a valid token or run `hf auth login`",
            )
        if status == 403:
            return AuthError(
                f"{what}: the token may not do this (403): {server}",
                status=403,
                hint="use a token with write access to the owner (`spacectl doctor` checks it)",
            )
        if status == 402:
            return HubError(
                f"{what}: payment required (402): {server}",
                status=402,
                hint="paid hardware or Space SDKs need billing on the owner's account",
            )
        if status in (409, 412):
            return ConflictError(f"{what}: conflict ({status}): {server}", status=status)
        if status in _TRANSIENT_STATUS:
            return TransientHubError(f"{what}: the Hub answered {status}: {server}", status=status)
        if isinstance(exc, BadRequestError) or status == 400:
            return HubError(f"{what}: rejected by the Hub (400): {server}", status=400)
        return HubError(f"{what}: the Hub answered {status}: {server}", status=status)
    if isinstance(exc, httpx2.TransportError):
        return TransientHubError(
            f"{what}: cannot reach {endpoint}: {type(exc).__name__}",
            hint="check the network, HF_ENDPOINT or --endpoint",
        )
    if isinstance(exc, OSError) and "xet" in str(exc).lower():
        return HubError(
            f"{what}: large-file upload failed: {str(exc).splitlines()[0]}",
            hint="against a server without Xet storage, set HF_HUB_DISABLE_XET=1",
        )
    if isinstance(exc, OSError):
        # A local file or folder the client reads or writes (a download target, a file that
        # vanished before its upload).
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return HubError(f"{what}: {exc.strerror or type(exc).__name__}{where}")
    if isinstance(exc, ValueError):
        # The client's own checks (HFValidationError) and its reading of a 400 answer, e.g.
        # "Invalid metadata in README.md" from the Hub's front-matter validation.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return HubError(f"{what}: {first}", hint="`spacectl doctor` checks this before a deploy")
    raise exc
