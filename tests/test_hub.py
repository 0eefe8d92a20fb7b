"""Error translation at the boundary (hub.translate) and the retry delay the Hub asks for.

Unit tests on hand-built client exceptions; the same paths run for real in tests/e2e."""

from __future__ import annotations

import hashlib

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


class _CommitApi:
    """A stand-in for HfApi's commit path: the first attempt lands but its answer is lost (a
    connection error), the retry gets 412; space_info and list_repo_tree show the landed head."""

    def __init__(self, landed_files: list[object]) -> None:
        self.attempts = 0
        self.landed_files = landed_files

    def create_commit(self, *args: object, **kwargs: object) -> object:
        self.attempts += 1
        if self.attempts == 1:
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        raise _http_error(412)

    def space_info(self, space_id: str, **kwargs: object) -> object:
        return type("Info", (), {"sha": "b" * 40})()

    def list_repo_tree(self, space_id: str, **kwargs: object) -> list[object]:
        return self.landed_files


def _lfs_file(path: str, content: bytes) -> object:
    from huggingface_hub import RepoFile

    sha256 = hashlib.sha256(content).hexdigest()
    pointer = (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(content)}\n"
    )
    blob = hashlib.sha1(b"blob %d\0" % len(pointer) + pointer.encode()).hexdigest()
    return RepoFile(
        path=path,
        size=len(content),
        oid=blob,
        lfs={"oid": sha256, "size": len(content), "pointerSize": len(pointer)},
    )


@pytest.mark.parametrize("landed", [True, False], ids=["landed", "another-commit"])
def test_a_retried_commit_that_gets_412_checks_the_lfs_content_at_the_head(landed: bool) -> None:
    """The real adapter's retry path (not the fake's): an LFS file at the head is compared by its
    content's SHA-256 (its blob id is the pointer's), and only an exact match counts as landed."""
    from spacectl.hub import Hub
    from spacectl.port import Upload

    content = bytes(range(256)) * 8
    at_head = content if landed else content[::-1]
    api = _CommitApi([_lfs_file("logo.bin", at_head)])
    hub = Hub("http://hub.test", "token", max_wait=0.01)
    hub.api = api  # type: ignore[assignment]
    upload = Upload(
        "logo.bin",
        content,
        hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest(),
        hashlib.sha256(content).hexdigest(),
    )
    commit = lambda: hub.commit(  # noqa: E731
        "acme/app", parent="a" * 40, message="m", additions=[upload], deletions=[]
    )
    if landed:
        assert commit() == "b" * 40
    else:
        with pytest.raises(ConflictError):
            commit()
    assert api.attempts == 2
