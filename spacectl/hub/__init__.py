"""The only importer of huggingface_hub (this package): reads live state, performs writes.

Its modules: `client` sets the client up (timeouts, telemetry, quiet logs, the Hub's clock,
endpoint and token, OIDC id tokens); `translate` maps client exceptions to spacectl's error tree;
`convert` turns the client's answers into state.py records; this module holds `Hub`.

`Hub` wraps one `HfApi`. Every call goes through `_call`, which
- translates huggingface_hub / HTTP exceptions into spacectl's `HubError` tree with a hint, and
- retries transient failures (429, 5xx, connection errors) with exponential backoff that honours
  the Hub's `Retry-After` and `RateLimit` headers (the client itself does not retry most Space
  endpoints). Writes are retried only where a repeat is harmless or detectable (see `commit`).

Reads are bulk where the Hub allows it: one `list_spaces(author=owner, expand=...)` per owner, then
per Space only the reads its manifest entry needs (variables, secrets, file tree).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import (
    HfApi,
    RepoFile,
    get_session,
)

# The client's Trusted Publisher exchange: its module registers no public API on purpose.
from huggingface_hub._oidc import exchange_oidc_token
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from spacectl.cache import TreeCache
from spacectl.errors import (
    AuthError,
    HubError,
    NotFoundError,
    TransientHubError,
)
from spacectl.hub.client import (
    DEFAULT_ENDPOINT,
    SERVER_CLOCK,
    SPACE_HARDWARE,
    _no_token,
    configure_client,
    mint_id_token,
    resolve_endpoint,
    resolve_token,
    token_or_error,
    xet_active,
)
from spacectl.hub.convert import _listed, _live_from_info, _runtime, _visibility
from spacectl.hub.translate import _retry_after, _Retryable, translate
from spacectl.hub.writes import HubWrites
from spacectl.results import AppAnswer
from spacectl.state import (
    Identity,
    LiveFile,
    LiveSecret,
    LiveSpace,
    LiveVariable,
    ReadmeCheck,
    ReadNeeds,
    Runtime,
)

_EXPAND = ["sdk", "private", "runtime", "cardData", "sha", "subdomain", "lastModified"]
T = TypeVar("T")

_MAX_WAIT_SECONDS = 60.0

__all__ = [
    "DEFAULT_ENDPOINT",
    "SERVER_CLOCK",
    "SPACE_HARDWARE",
    "Hub",
    "configure_client",
    "mint_id_token",
    "resolve_endpoint",
    "resolve_token",
    "token_or_error",
    "translate",
    "xet_active",
]


class Hub(HubWrites):
    """The Hub as spacectl uses it (reads here, writes in `HubWrites`). Thread-safe: one instance
    is shared by apply's workers."""

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        attempts: int = 8,
        max_wait: float = _MAX_WAIT_SECONDS,
        on_retry: Callable[[str], None] | None = None,
        identity: str | None = None,
        tree_cache: TreeCache | None = None,
    ) -> None:
        """`identity` names this Hub in saved plans (default: the endpoint URL); `tree_cache`
        keeps file trees by commit id (`list_files` of a commit id answers from it)."""
        self.endpoint = endpoint.rstrip("/")
        self.identity = identity or self.endpoint
        self.token = token
        self.api = HfApi(endpoint=self.endpoint, token=token)
        self._attempts = attempts
        self._max_wait = max_wait
        self._on_retry = on_retry
        self._create_lock = threading.Lock()
        self._trees = tree_cache
        self._apps: dict[str, tuple[str, bool]] = {}  # Space -> (app host, send the token)
        self._apps_lock = threading.Lock()

    def now(self) -> datetime:
        """The Hub's time (its `Date` headers), to compare with times the Hub reports."""
        return SERVER_CLOCK.now()

    def _note(self, message: str) -> None:
        if self._on_retry:
            self._on_retry(message)

    # --- the one place that calls the client --------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T], *, retry: bool = True) -> T:
        def attempt() -> T:
            try:
                return fn()
            except Exception as exc:
                error = translate(exc, what=what, endpoint=self.endpoint)
                if isinstance(error, TransientHubError) and retry:
                    response = getattr(exc, "response", None)
                    raise _Retryable(error, _retry_after(response)) from None
                raise error from None

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = wait_exponential_jitter(initial=0.5, max=8.0)(state)
            if isinstance(exc, _Retryable) and exc.wait is not None:
                return min(exc.wait, self._max_wait)
            return backoff

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable):
                self._note(f"{exc.error.message}; retrying")

        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self._attempts),
            wait=wait,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exc:
            raise exc.error from None

    # --- identity and catalogues --------------------------------------------------------------

    def whoami(self) -> Identity:
        if not self.token:
            raise _no_token()
        data = self._call("whoami", lambda: self.api.whoami(cache=True))
        auth = data.get("auth", {}).get("accessToken", {})
        return Identity(
            name=data["name"],
            orgs=tuple(o["name"] for o in data.get("orgs", [])),
            role=auth.get("role"),
            raw=data,
        )

    def can_write(self, space_id: str) -> bool:
        """auth_check(write=True): False on 401/403/404, errors otherwise."""
        try:
            self._call(
                f"{space_id}: write check",
                lambda: self.api.auth_check(space_id, repo_type="space", write=True),
            )
        except (AuthError, NotFoundError):
            return False
        return True

    def hardware_flavors(self) -> list[str]:
        items = self._call("list hardware", self.api.list_spaces_hardware)
        return [item.name for item in items]

    # --- reading ------------------------------------------------------------------------------

    def list_owner(self, owner: str) -> dict[str, LiveSpace]:
        """Every Space of `owner` visible to the token, from one paginated bulk listing."""
        infos = self._call(
            f"list Spaces of {owner}",
            lambda: list(self.api.list_spaces(author=owner, expand=_EXPAND)),  # type: ignore[arg-type]
            retry=False,  # paginated listings already retry with backoff inside the client
        )
        return {info.id: _live_from_info(info) for info in infos}

    def read_live(
        self,
        needs: Mapping[str, ReadNeeds | Callable[[LiveSpace], ReadNeeds]],
        *,
        parallelism: int = 8,
        listed: Mapping[str, LiveSpace] | None = None,
    ) -> dict[str, LiveSpace | None]:
        """Live state of every Space in `needs` (None when absent or invisible).

        `needs[space_id]` says which further reads a Space takes; as a function it sees the Space
        as the bulk listing reports it first. `listed` is a listing the caller already made."""
        if listed is None:
            owners = sorted({space_id.split("/", 1)[0] for space_id in needs})
            listed = {}
            for owner in owners:
                listed = {**listed, **self.list_owner(owner)}
        # The Hub resolves names case-insensitively: `acme/Demo` in a manifest is `acme/demo`.
        by_lower = {space_id.lower(): live for space_id, live in listed.items()}
        listed = {sid: by_lower[sid.lower()] for sid in needs if sid.lower() in by_lower}
        result: dict[str, LiveSpace | None] = {sid: None for sid in needs}
        present = list(listed)
        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:

            def complete(sid: str) -> LiveSpace:
                need = needs[sid]
                return self._complete(
                    listed[sid], need if isinstance(need, ReadNeeds) else need(listed[sid])
                )

            completed = pool.map(complete, present)
            for sid, live in zip(present, completed, strict=True):
                result[sid] = live
        return result

    def read_space(
        self, space_id: str, needs: ReadNeeds | Callable[[LiveSpace], ReadNeeds]
    ) -> LiveSpace | None:
        """One Space, read fresh (for apply's stale check and read-back after create, and the
        per-Space reads of keyless mode); `needs` as in `read_live`."""
        try:
            info = self._call(
                f"{space_id}: read",
                lambda: self.api.space_info(space_id, expand=_EXPAND),  # type: ignore[arg-type]
            )
        except NotFoundError:
            return None
        live = _live_from_info(info)
        return self._complete(live, needs if isinstance(needs, ReadNeeds) else needs(live))

    def exchange_id_token(self, id_token: str, space_id: str) -> tuple[str, float]:
        """A Trusted Publisher token for `space_id` (RFC 8693 at `{endpoint}/oauth/token`) and
        its lifetime in seconds. The Hub's refusal is a HubError with its status (400 for
        invalid_grant) and, as message, the OAuth error and its description on one line."""
        try:
            answer = self._call(
                f"{space_id}: keyless token exchange",
                lambda: exchange_oidc_token(
                    subject_token=id_token, resource=f"spaces/{space_id}", endpoint=self.endpoint
                ),
            )
        except HubError as exc:
            if exc.status not in (400, 401, 403):
                raise
            # The client joins the error header and the OAuth body: the body's line says most.
            said = exc.message.strip().splitlines()[-1].split("): ", 1)[-1]
            raise HubError(f"token exchange refused: {said}", status=exc.status) from None
        return str(answer["access_token"]), float(answer.get("expires_in", 3600))

    def _complete(self, live: LiveSpace, needs: ReadNeeds) -> LiveSpace:
        sid = live.id
        changes: dict[str, Any] = {}
        if needs.variables:
            variables = self._call(
                f"{sid}: read variables", lambda: self.api.get_space_variables(sid)
            )
            changes["variables"] = {
                k: LiveVariable(v.value, v.description, v.updated_at) for k, v in variables.items()
            }
        if needs.secrets:
            secrets = self._call(f"{sid}: read secrets", lambda: self.api.get_space_secrets(sid))
            changes["secrets"] = {
                k: LiveSecret(s.description, s.updated_at) for k, s in secrets.items()
            }
        if needs.files and live.sha:
            changes["files"] = self.list_files(sid, live.sha)
        if needs.readme and live.sha:
            changes["readme"] = self.read_text(sid, "README.md", live.sha)
        return replace(live, **changes)

    def list_files(self, space_id: str, revision: str) -> dict[str, LiveFile]:
        """The files at `revision`; a commit id's tree comes from the tree cache when it has it
        (a commit's tree never changes), and goes into it when it is read."""
        rows = self._trees.get(self.endpoint, space_id, revision) if self._trees else None
        if rows is not None:
            try:
                return {row["path"]: LiveFile(**row) for row in rows}
            except (TypeError, KeyError):
                pass  # a damaged entry is a miss: read the tree again
        files = self._list_files(space_id, revision)
        if self._trees is not None:
            self._trees.put(self.endpoint, space_id, revision, [asdict(f) for f in files.values()])
        return files

    def _list_files(self, space_id: str, revision: str) -> dict[str, LiveFile]:
        entries = self._call(
            f"{space_id}: list files",
            lambda: list(
                self.api.list_repo_tree(
                    space_id, recursive=True, repo_type="space", revision=revision
                )
            ),
            retry=False,  # paginated listings already retry with backoff inside the client
        )
        files: dict[str, LiveFile] = {}
        for entry in entries:
            if not isinstance(entry, RepoFile):
                continue
            files[entry.path] = LiveFile(
                path=entry.path,
                size=entry.size,
                blob_id=entry.blob_id,
                lfs_sha256=entry.lfs.sha256 if entry.lfs is not None else None,
            )
        return files

    def read_text(self, space_id: str, path: str, revision: str) -> str | None:
        try:
            local = self._call(
                f"{space_id}: download {path}",
                lambda: self.api.hf_hub_download(
                    space_id, path, repo_type="space", revision=revision
                ),
            )
        except NotFoundError:
            return None
        return Path(local).read_text(encoding="utf-8", errors="replace")

    def head(self, space_id: str) -> str | None:
        info = self._call(
            f"{space_id}: read head",
            lambda: self.api.space_info(space_id, expand=["sha"]),
        )
        return info.sha

    def commit_ids(self, space_id: str) -> list[str]:
        """The commit ids of `main`, newest first: the head, back to the Space's first commit."""
        commits = self._call(
            f"{space_id}: list commits",
            lambda: list(self.api.list_repo_commits(space_id, repo_type="space")),
            retry=False,  # paginated listings already retry with backoff inside the client
        )
        return [commit.commit_id for commit in commits]

    def runtime(self, space_id: str) -> Runtime:
        rt = self._call(f"{space_id}: runtime", lambda: self.api.get_space_runtime(space_id))
        return _runtime(rt)

    def get_app(self, space_id: str, path: str, *, timeout: float) -> AppAnswer:
        """One GET of `path` on the Space's app, at the `host` the Hub answers for it (read
        once per Space), within `timeout` seconds; no retries (the healthcheck loop retries).
        The token goes only to a non-public Space's own host (`{subdomain}.hf.space`, or
        this Hub's origin, as the sandbox serves apps): a public app needs none, and an app
        host the Hub did not name for this Space never sees it."""
        with self._apps_lock:
            known = self._apps.get(space_id)
        if known is None:
            info = self._call(f"{space_id}: app host", lambda: self.api.space_info(space_id))
            host = getattr(info, "host", None) or ""
            own = {f"{getattr(info, 'subdomain', '')}.hf.space", urlsplit(self.endpoint).netloc}
            trusted = bool(host) and urlsplit(host).netloc in own
            send = trusted and _visibility(info) != "public" and bool(self.token)
            known = (host.rstrip("/"), send)
            with self._apps_lock:
                self._apps[space_id] = known
        host, send = known
        url = host + path
        if not host:
            return AppAnswer(url, None, "the Hub names no app host for this Space")
        headers = {"authorization": f"Bearer {self.token}"} if send else {}
        try:
            response = get_session().get(url, headers=headers, timeout=timeout)
        except httpx2.HTTPError as exc:
            return AppAnswer(url, None, type(exc).__name__)
        return AppAnswer(url, response.status_code)

    def runtimes(self, owner: str) -> dict[str, Runtime]:
        """The runtime of every Space of `owner`, from one paginated listing (`--wait` polls
        many Spaces this way)."""
        infos = self._call(
            f"list runtimes of {owner}",
            lambda: list(self.api.list_spaces(author=owner, expand=["runtime"])),
            retry=False,  # paginated listings already retry with backoff inside the client
        )
        return {info.id: _runtime(info.runtime) for info in infos if info.runtime is not None}

    def logs(self, space_id: str, *, build: bool, follow: bool = False) -> Iterator[str]:
        kind = "build" if build else "run"
        lines: Iterable[str] = self._call(
            f"{space_id}: {kind} logs",
            lambda: self.api.fetch_space_logs(space_id, build=build, follow=follow),
            retry=False,
        )
        try:
            yield from lines
        except Exception as exc:
            raise translate(exc, what=f"{space_id}: {kind} logs", endpoint=self.endpoint) from None

    def download_space(self, space_id: str, revision: str | None, folder: Path) -> Path:
        """Every file of the Space at `revision` into `folder` (created if needed).

        The client keeps its download metadata in `folder/.cache/huggingface/`, which
        `files.scan_source` never uploads."""
        local = self._call(
            f"{space_id}: download files",
            lambda: self.api.snapshot_download(
                space_id, repo_type="space", revision=revision, local_dir=folder
            ),
        )
        return Path(local)

    def validate_readme(self, content: str) -> ReadmeCheck:
        """Validate README.md text as the Hub does before accepting a commit.

        One `POST /api/validate-yaml` through this Hub's endpoint (`RepoCard.validate` would use
        the import-time endpoint instead). Errors come back as data, not exceptions."""

        def run() -> ReadmeCheck:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    self.api._validate_yaml(content, repo_type="space")
                    errors: tuple[str, ...] = ()
                except ValueError as exc:  # the client's way of reporting a 400 with errors
                    errors = _listed(str(exc))
            notes = tuple(n for w in caught for n in _listed(str(w.message)))
            return ReadmeCheck(errors=errors, warnings=notes)

        return self._call("validate README.md", run)
