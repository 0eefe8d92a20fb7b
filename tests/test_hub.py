"""Error translation at the boundary (hub.translate) and the retry delay the Hub asks for.

Unit tests on hand-built client exceptions; the same paths run for real in tests/e2e."""

from __future__ import annotations

import httpx2
import pytest
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    LocalTokenNotFoundError,
    RepositoryNotFoundError,
)

from spacectl.errors import AuthError, ConflictError, HubError, NotFoundError, TransientHubError
from spacectl.hub import _retry_after, translate

URL = "http://hub.test/api/spaces/acme/app/secrets"


def _response(status: int, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, headers=headers, request=httpx2.Request("POST", URL))


def _http_error(status: int, cls: type[HfHubHTTPError] = HfHubHTTPError) -> HfHubHTTPError:
    return cls(f"{status} error", response=_response(status), server_message="server says no")


@pytest.mark.parametrize(
    ("exc", "kind", "status", "text"),
    [
        (_http_error(401), AuthError, 401, "the token was rejected (401): server says no"),
        (_http_error(403), AuthError, 403, "the token may not do this (403)"),
        (_http_error(402), HubError, 402, "payment required (402)"),
        (_http_error(404, RepositoryNotFoundError), NotFoundError, 404, "not found"),
        (_http_error(409), ConflictError, 409, "conflict (409)"),
        (_http_error(412), ConflictError, 412, "conflict (412)"),
        (_http_error(429), TransientHubError, 429, "the Hub answered 429"),
        (_http_error(503), TransientHubError, 503, "the Hub answered 503"),
        (_http_error(400, BadRequestError), HubError, 400, "rejected by the Hub (400)"),
    ],
)
def test_http_errors_map_to_the_error_tree(
    exc: Exception, kind: type[HubError], status: int, text: str
) -> None:
    error = translate(exc, what="acme/app: set secret K", endpoint="http://hub.test")
    assert type(error) is kind
    assert error.status == status
    assert error.message.startswith("acme/app: set secret K: ")
    assert text in error.message
    assert "\n" not in error.message


def test_client_side_failures_are_one_line_errors_with_a_next_step() -> None:
    no_token = translate(LocalTokenNotFoundError(), what="whoami", endpoint="http://hub.test")
    assert isinstance(no_token, AuthError) and no_token.hint and "HF_TOKEN" in no_token.hint
    down = translate(
        httpx2.ConnectError("refused"), what="list Spaces of acme", endpoint="http://hub.test"
    )
    assert isinstance(down, TransientHubError)
    assert down.message == "list Spaces of acme: cannot reach http://hub.test: ConnectError"
    bad_card = translate(
        ValueError("Invalid metadata in README.md.\n- colorFrom: bad"),
        what="acme/app: commit",
        endpoint="http://hub.test",
    )
    assert bad_card.message == "acme/app: commit: Invalid metadata in README.md."
    missing = translate(
        FileNotFoundError(2, "No such file or directory", "/src/app.py"),
        what="acme/app: commit",
        endpoint="http://hub.test",
    )
    assert missing.message == "acme/app: commit: No such file or directory (/src/app.py)"


def test_a_bug_is_not_disguised_as_a_hub_error() -> None:
    with pytest.raises(KeyError):
        translate(KeyError("x"), what="w", endpoint="http://hub.test")


def test_retry_delay_follows_the_hubs_headers() -> None:
    limited = _response(
        429, {"RateLimit": '"api";r=0;t=5', "RateLimit-Policy": '"fixed window";"api";q=10;w=60'}
    )
    assert _retry_after(limited) == 6.0
    assert _retry_after(_response(503, {"Retry-After": "3"})) == 4.0
    assert _retry_after(_response(503)) is None
    assert _retry_after(None) is None
