"""One exception tree for spacectl, and the process exit codes.

Every error a user can cause or meet is a `SpacectlError`. Each carries a one-line message and an
optional `hint` (the next command to run). The CLI is the only place that catches them: it prints
`Error: <message>` (plus the hint) on stderr and exits with `exit_code`. Messages must never contain
a secret value or a token.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_ERROR = 1
EXIT_CHANGES = 2  # plan --detailed-exitcode: changes present
EXIT_INTERNAL = 3  # a bug: anything that is not a SpacectlError
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class SourceLocation:
    """A position in a manifest file; `line` and `column` are 1-based as editors show them."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class SpacectlError(Exception):
    """Root of every error spacectl reports to a user."""

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ManifestError(SpacectlError):
    """The manifest is invalid; `location` points at the offending node when known.

    `where` is the dotted path inside the document (`spaces.platform.sdk`).
    """

    def __init__(
        self,
        message: str,
        *,
        location: SourceLocation | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        parts = [str(location)] if location else []
        if where:
            parts.append(where)
        parts.append(message)
        super().__init__(": ".join(parts), hint=hint)
        self.location = location
        self.where = where
        self.reason = message


class PlanFileError(SpacectlError):
    """A saved plan file cannot be used (unreadable, other version, other manifest or endpoint)."""


class ConfigError(SpacectlError):
    """Local setup is wrong: no token, a source folder that cannot be scanned or uploaded, a bad
    sandbox flag."""


class SpillError(ConfigError):
    """A temporary copy of a file being uploaded cannot be written (the temp disk is full or not
    writable): not the source file's fault, so not a stale plan."""


class HubError(SpacectlError):
    """The Hub refused or failed a request. `status` is the HTTP status when there was one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class AuthError(HubError):
    """Missing, invalid or insufficient token (401/403)."""


class NotFoundError(HubError):
    """The Space (or a path in it) does not exist or is not visible to this token."""


class ConflictError(HubError):
    """409/412: the resource already exists or the branch moved since it was read."""


class TransientHubError(HubError):
    """429, 5xx or a connection error: worth retrying."""


class StalePlanError(SpacectlError):
    """The live state of a Space changed after the plan was made."""


class ConfirmationError(SpacectlError):
    """apply needs confirmation but there is no terminal and no --yes."""


class ApplyError(SpacectlError):
    """One or more Spaces failed during apply; the summary has already been printed."""
