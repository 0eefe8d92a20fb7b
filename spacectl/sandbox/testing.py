"""Run a real `spacectl sandbox serve` process for tests, and talk to its control API.

`sandbox_process()` is the context manager; it needs no test framework (spacectl's own pytest
fixture is in tests/conftest.py). Clients must run in their own processes with `env()`, because
huggingface_hub reads HF_ENDPOINT at import.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import IO, Any

_LISTENING = "Hub sandbox listening on "
_START_TIMEOUT = 30.0


class SandboxProcess:
    """A running sandbox subprocess: its endpoint, its first user, and control helpers.

    `options` are `spacectl sandbox serve` flags without dashes (`build_seconds=0.5`,
    `user=["alice:tok"]`, `data="/tmp/x"`); lists repeat the flag.
    """

    def __init__(self, workdir: Path, options: dict[str, Any]) -> None:
        self.workdir = workdir
        self.options = options
        self.endpoint = ""
        self.users: dict[str, str] = {}
        self.user = ""
        self.token = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    def _command(self) -> list[str]:
        command = [sys.executable, "-m", "spacectl", "sandbox", "serve", "--port", "0"]
        for name, value in self.options.items():
            flag = "--" + name.replace("_", "-")
            for item in value if isinstance(value, (list, tuple)) else [value]:
                command += [flag, str(item)]
        return command

    def start(self) -> None:
        """Start the process and wait for its announcement (at most 30 s)."""
        self._stderr = open(self.workdir / "sandbox-stderr.log", "a")  # noqa: SIM115
        process = subprocess.Popen(
            self._command(),
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._process = process
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        try:
            line = lines.get(timeout=_START_TIMEOUT)
        except queue.Empty:
            line = ""
        if not line.startswith(_LISTENING):
            self.stop()
            raise RuntimeError(f"sandbox did not start: {line!r}; see {self.workdir}")
        self.endpoint = line[len(_LISTENING) :].strip()
        users = self.control("GET", "users")["users"]
        self.users = {}
        for entry in users:
            if entry["role"] == "write":
                self.users.setdefault(entry["name"], entry["token"])
        self.user, self.token = next(iter(self.users.items()))

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 10 s)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._close_log()

    def _close_log(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    @property
    def pid(self) -> int:
        """The process id of the running sandbox."""
        assert self._process is not None, "the sandbox is not running"
        return self._process.pid

    def kill(self) -> None:
        """SIGKILL the process (no clean-up: a crash), then forget it; `start()` runs it again."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        self._close_log()

    def restart(self) -> None:
        """Stop and start again with the same flags (a new port unless one was given)."""
        self.stop()
        self.start()

    def control(self, method: str, name: str, body: Any = None) -> Any:
        """Call `/_sandbox/{name}` and return its JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.endpoint}/_sandbox/{name}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def requests(self) -> list[dict[str, Any]]:
        """The request log: method, path, query, status, byte counts, duration_ms, time."""
        result: list[dict[str, Any]] = self.control("GET", "requests")
        return result

    def clear_requests(self) -> None:
        self.control("DELETE", "requests")

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Change injected faults live (latency_ms, error_rate, error_statuses, reset_rate,
        rate_limit as "N/SECONDS" or None)."""
        result: dict[str, Any] = self.control("PUT", "faults", changes)
        return result

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change build_seconds, create_seconds, upload_mode or
        page_size={spaces,tree,tree_expand,commits}."""
        result: dict[str, Any] = self.control("PUT", "config", changes)
        return result

    def env(self, xet: bool | None = None, token: str | None = None) -> dict[str, str]:
        """Environment for a client subprocess talking to this sandbox; its HF_HOME and spacectl
        cache folder (SPACECTL_CACHE_DIR) are new and its own, never the user's. Xet is the
        client's default (on) unless `xet` is False, or None and this process has
        HF_HUB_DISABLE_XET set (how CI reruns tests on the LFS path)."""
        if xet is None:
            xet = not os.environ.get("HF_HUB_DISABLE_XET")
        home = tempfile.mkdtemp(prefix="hf-home-", dir=self.workdir)
        env = {
            **os.environ,
            "HF_ENDPOINT": self.endpoint,
            "HF_TOKEN": token or self.token,
            "HF_HOME": home,
            "SPACECTL_CACHE_DIR": os.path.join(home, "spacectl-cache"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        env.pop("HF_HUB_OFFLINE", None)
        env.pop("HF_HUB_DISABLE_XET", None)
        if not xet:
            env["HF_HUB_DISABLE_XET"] = "1"
        return env

    def http(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Message, bytes]:
        """A raw request to the sandbox; returns (status, headers, body) for any status.

        The headers are case-insensitive, as HTTP headers are."""
        request = urllib.request.Request(
            self.endpoint + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


@contextmanager
def sandbox_process(tmp_dir: Path | None = None, **options: Any) -> Iterator[SandboxProcess]:
    """Start `spacectl sandbox serve --port 0` with `options` as flags; stop it on exit."""
    with tempfile.TemporaryDirectory(prefix="hub-sandbox-") as scratch:
        workdir = Path(tmp_dir) if tmp_dir is not None else Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        process = SandboxProcess(workdir, options)
        process.start()
        try:
            yield process
        finally:
            process.stop()
