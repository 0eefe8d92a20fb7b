"""Files spacectl replaces whole (saved plans, imported manifests, the sandbox's state): the one
atomic writer, and the OS's words for a failed file operation."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, *, private: bool = False) -> None:
    """Replace `path` with `data` (a str is written as UTF-8) so that a reader, or a run
    interrupted at any moment, finds the old file or the new one, never a part of it.

    The data goes to a new temporary file in the same folder, which is then renamed over `path`;
    each call has its own temporary file, so threads may write the same path at once (the last
    rename wins). The new file is readable by its owner only when `private`, else it has the
    default permissions (the umask's). Raises `OSError`, the temporary file removed; callers say
    what could not be written (see `os_reason`)."""
    encoded = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.spacectl-tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(encoded)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def os_reason(exc: Exception) -> str:
    """Why a file operation failed, for a one-line error: the OS's words (`Permission denied`),
    else the exception's name."""
    return getattr(exc, "strerror", None) or type(exc).__name__
