"""The one exception of the sandbox's Hub rules: an error answer as the Hub gives it."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Hub error response: status, message, and the `X-Error-Code` the client branches on.

    `extra` keys are merged into the JSON body (e.g. `url` of a 409 on create).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.extra = extra or {}


def repo_not_found() -> ApiError:
    """What the Hub answers for a missing Space and for one the caller may not see alike."""
    return ApiError(404, "Repository not found", code="RepoNotFound")


class RepoExists(ApiError):
    """409: a Space named `repo_id` exists already. The HTTP layer adds its `url` to the body,
    as the Hub does, since URLs are built from the request."""

    def __init__(self, repo_id: str) -> None:
        super().__init__(409, "You already created this space repo")
        self.repo_id = repo_id


class Moved(ApiError):
    """307: the Space was renamed by `move_repo`; the HTTP layer answers a redirect to the same
    route under `repo_id`, its name now, as the Hub does for a repository's old name."""

    def __init__(self, repo_id: str) -> None:
        super().__init__(307, f"Repository moved to {repo_id}")
        self.repo_id = repo_id
