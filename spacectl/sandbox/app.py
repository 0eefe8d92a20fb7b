"""The Hub's HTTP API for Spaces, as Starlette routes over the sandbox `Store`.

Routing happens on the raw request path: `RawPathMiddleware` puts the still-percent-encoded
path in `scope["path"]`, so a `%2F` inside a revision or a tree sub-path stays inside one path
parameter; handlers decode parameters with `_param`. Errors follow the Hub's convention (JSON
`{"error": ...}` plus `X-Error-Message` and, where the client branches on it, `X-Error-Code`).
Every URL in a response is built from the request's Host header.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable
from email.utils import formatdate
from fnmatch import fnmatchcase
from ipaddress import ip_address
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spacectl.sandbox import runtime
from spacectl.sandbox.config import SandboxOptions
from spacectl.sandbox.faults import CONTROL_PREFIX, FaultMiddleware, FaultSettings, RequestLog
from spacectl.sandbox.frontmatter import front_matter
from spacectl.sandbox.hub_data import HARDWARE_FLAVORS, HARDWARE_NAMES, repo_name_problem
from spacectl.sandbox.store import (
    CARD_COLORS,
    HUB_GITATTRIBUTES,
    ApiError,
    Commit,
    FileEntry,
    Principal,
    Setting,
    Space,
    Store,
    git_blob_sha1,
    hub_timestamp,
    initial_readme,
    lfs_pointer,
    new_object_id,
)

JSON_TYPE = "application/json; charset=utf-8"
LFS_TYPE = "application/vnd.git-lfs+json"
LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub sends files of 10 MiB or more to LFS
FREE_SLEEP_SECONDS = 172_800  # cpu-basic Spaces sleep after 48 h; not configurable
VISIBILITIES = ("public", "private", "protected")
SPACE_EXPAND = frozenset(
    {
        "author",
        "cardData",
        "createdAt",
        "datasets",
        "disabled",
        "lastModified",
        "likes",
        "models",
        "private",
        "region",
        "resourceGroup",
        "runtime",
        "sdk",
        "sha",
        "siblings",
        "subdomain",
        "host",
        "tags",
        "trendingScore",
        "usedStorage",
        "xetEnabled",
    }
)
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT_ID = re.compile(r"^[0-9a-fA-F]{5,40}$")
_XET_MESSAGE = (
    "The Hub sandbox does not emulate Xet storage. Run the client with HF_HUB_DISABLE_XET=1, "
    "or start the sandbox with --upload-mode regular so that no file needs Xet."
)


# -- responses -------------------------------------------------------------------------------


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)


def text_ok() -> Response:
    return Response(b"OK", media_type="text/plain; charset=utf-8")


def error_response(error: ApiError) -> Response:
    headers = {"X-Error-Message": error.message.encode("ascii", "replace").decode()}
    if error.code:
        headers["X-Error-Code"] = error.code
    return json_response({"error": error.message, **error.extra}, error.status, headers)


def _param(request: Request, name: str) -> str:
    return unquote(str(request.path_params[name]))


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _bool_arg(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true")


def _next_link(request: Request, cursor: int) -> str:
    """An absolute `Link` header to the next page: the same query with a new cursor."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    params.append(("cursor", base64.urlsafe_b64encode(str(cursor).encode()).decode()))
    url = f"{_base_url(request)}{request.scope['path']}?{urlencode(params)}"
    return f'<{url}>; rel="next"'


def _cursor(request: Request) -> int:
    raw = request.query_params.get("cursor")
    if raw is None:
        return 0
    try:
        return max(int(base64.urlsafe_b64decode(raw.encode()).decode()), 0)
    except (ValueError, binascii.Error):
        raise ApiError(400, "Invalid cursor") from None


def _paginate(
    request: Request, items: list[Any], page_size: int
) -> tuple[list[Any], dict[str, str]]:
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


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Invalid JSON in request body") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return data


def _str_field(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ApiError(400, f'"{name}" is required and must be a non-empty string')
    return value


# -- the application -------------------------------------------------------------------------


class HubSandbox:
    """Route handlers over one `Store`; `asgi` is the app to serve."""

    def __init__(self, store: Store, options: SandboxOptions, faults: FaultSettings) -> None:
        self.store = store
        self.options = options
        self.log = RequestLog()
        # Seconds the sandbox's clock runs ahead of the machine's (`PUT /_sandbox/clock`).
        self.clock_offset = 0.0
        self.starlette = Starlette(
            routes=self._routes(),
            exception_handlers={HTTPException: self._http_exception, Exception: self._crash},
        )
        # Faults outermost: a reset needs uvicorn's own `send` to reach the connection.
        self.faults = FaultMiddleware(
            RawPathMiddleware(self.starlette, self.clock), faults, self.log, self.clock
        )
        self.asgi: ASGIApp = self.faults

    def clock(self) -> float:
        """Now, on the sandbox's clock: every timestamp and simulated build uses it."""
        return time.time() + self.clock_offset

    def _routes(self) -> list[Route]:
        s = "/api/spaces/{ns}/{name}"
        h = self._wrap
        return [
            Route("/api/whoami-v2", h(self.whoami), methods=["GET"]),
            Route("/api/agent-harnesses", h(self.harnesses), methods=["GET"]),
            Route("/api/repos/create", h(self.create_repo), methods=["POST"]),
            Route("/api/repos/delete", h(self.delete_repo), methods=["DELETE"]),
            Route("/api/repos/move", h(self.move_repo), methods=["POST"]),
            Route("/api/validate-yaml", h(self.validate_yaml), methods=["POST"]),
            Route("/api/spaces", h(self.list_spaces), methods=["GET"]),
            Route("/api/spaces/hardware", h(self.hardware_list), methods=["GET"]),
            Route("/api/spaces/templates", h(self.templates), methods=["GET"]),
            Route(s, h(self.space_info), methods=["GET"]),
            Route(s + "/revision/{rev}", h(self.space_info), methods=["GET"]),
            Route(s + "/settings", h(self.settings), methods=["PUT"]),
            Route(s + "/runtime", h(self.get_runtime), methods=["GET"]),
            Route(s + "/secrets", h(self.secrets), methods=["GET", "POST", "DELETE"]),
            Route(s + "/variables", h(self.variables), methods=["GET", "POST", "DELETE"]),
            Route(s + "/hardware", h(self.request_hardware), methods=["POST"]),
            Route(s + "/sleeptime", h(self.sleeptime), methods=["POST"]),
            Route(s + "/pause", h(self.pause), methods=["POST"]),
            Route(s + "/restart", h(self.restart), methods=["POST"]),
            Route(s + "/dev-mode", h(self.dev_mode), methods=["POST"]),
            Route(s + "/volumes", h(self.volumes), methods=["PUT", "DELETE"]),
            Route(s + "/duplicate", h(self.duplicate), methods=["POST"]),
            Route(s + "/logs/{kind}", h(self.logs), methods=["GET"]),
            Route(s + "/auth-check", h(self.auth_check), methods=["GET"]),
            Route(s + "/auth-check/write", h(self.auth_check), methods=["GET"]),
            Route(s + "/tree/{rev}", h(self.tree), methods=["GET"]),
            Route(s + "/tree/{rev}/{path}", h(self.tree), methods=["GET"]),
            Route(s + "/paths-info/{rev}", h(self.paths_info), methods=["POST"]),
            Route(s + "/preupload/{rev}", h(self.preupload), methods=["POST"]),
            Route(s + "/commit/{rev}", h(self.commit), methods=["POST"]),
            Route(s + "/commits/{rev}", h(self.list_commits), methods=["GET"]),
            Route(s + "/refs", h(self.refs), methods=["GET"]),
            Route(s + "/xet-write-token/{rev}", h(self.xet_token), methods=["GET"]),
            Route(s + "/xet-read-token/{rev}", h(self.xet_token), methods=["GET"]),
            Route(
                "/spaces/{ns}/{repo}/info/lfs/objects/batch", h(self.lfs_batch), methods=["POST"]
            ),
            Route(
                "/spaces/{ns}/{repo}/info/lfs/objects/verify", h(self.lfs_verify), methods=["POST"]
            ),
            Route("/sandbox-lfs/{upload_id}", h(self.lfs_upload), methods=["PUT"]),
            Route(
                "/spaces/{ns}/{name}/resolve/{rev}/{path:path}",
                h(self.resolve),
                methods=["GET", "HEAD"],
            ),
            Route(CONTROL_PREFIX + "requests", h(self.ctl_requests), methods=["GET", "DELETE"]),
            Route(CONTROL_PREFIX + "faults", h(self.ctl_faults), methods=["GET", "PUT"]),
            Route(CONTROL_PREFIX + "config", h(self.ctl_config), methods=["GET", "PUT"]),
            Route(CONTROL_PREFIX + "users", h(self.ctl_users), methods=["GET"]),
            Route(CONTROL_PREFIX + "clock", h(self.ctl_clock), methods=["GET", "PUT"]),
            Route(CONTROL_PREFIX + "spaces/{ns}/{name}/stage", h(self.ctl_stage), methods=["POST"]),
        ]

    @staticmethod
    def _wrap(
        handler: Callable[[Request], Any],
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            if request.url.path.startswith(CONTROL_PREFIX) and not _is_loopback(request):
                return error_response(ApiError(403, "The sandbox control API is loopback-only"))
            try:
                response: Response = await handler(request)
            except ApiError as error:
                return error_response(error)
            return response

        return endpoint

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = "Not Found" if exc.status_code == 404 else str(exc.detail)
        return error_response(ApiError(exc.status_code, message))

    async def _crash(self, request: Request, exc: Exception) -> Response:
        # A bug in the sandbox: answer like the Hub's 500 and keep serving (uvicorn logs it).
        return error_response(ApiError(500, f"Internal Error in the Hub sandbox: {exc!r}"))

    # -- auth and lookup ------------------------------------------------------------------------

    def principal(self, request: Request) -> Principal | None:
        """The caller, or None when anonymous; 401 for a token the sandbox does not know."""
        header = request.headers.get("authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        found = self.store.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise ApiError(401, "Invalid credentials in Authorization header")
        return found

    def writer(self, request: Request) -> Principal:
        found = self.principal(request)
        if found is None:
            raise ApiError(401, "You must be authenticated to do this; send a write token")
        if not found.can_write:
            raise ApiError(
                403, "This token has read-only access; this operation requires a write token"
            )
        return found

    def space(self, request: Request, *, files: bool = False, write: bool = False) -> Space:
        """The Space named by the path. Invisible (or unreadable, with `files`) -> 404."""
        who = self.principal(request)
        space = self.store.find(f"{_param(request, 'ns')}/{_param(request, 'name')}")
        if space is None or not self.store.can_see(who, space):
            raise ApiError(404, "Repository not found", code="RepoNotFound")
        if files and not self.store.can_read_files(who, space):
            raise ApiError(404, "Repository not found", code="RepoNotFound")
        if write:
            if who is None:
                raise ApiError(401, "You must be authenticated to do this; send a write token")
            if not self.store.is_member(who, space.namespace):
                raise ApiError(403, f"You don't have the rights to modify {space.id}")
            if not who.can_write:
                raise ApiError(
                    403, "This token has read-only access; this operation requires a write token"
                )
        return space

    def space_url(self, request: Request, space_id: str) -> str:
        return f"{_base_url(request)}/spaces/{space_id}"

    # -- identity -------------------------------------------------------------------------------

    async def whoami(self, request: Request) -> Response:
        who = self.principal(request)
        if who is None:
            raise ApiError(401, "Invalid username or password.")
        with self.store.transaction() as st:
            user = st.users[who.user]
            token = next(t for t in st.tokens.values() if t.user == who.user and t.role == who.role)
            orgs = [
                {
                    "type": "org",
                    "id": st.orgs[name].object_id,
                    "name": name,
                    "fullname": name,
                    "email": None,
                    "canPay": False,
                    "avatarUrl": f"{_base_url(request)}/avatars/{name}.svg",
                    "periodEnd": None,
                    "roleInOrg": "admin",
                }
                for name in who.orgs
            ]
            return json_response(
                {
                    "type": "user",
                    "id": user.object_id,
                    "name": user.name,
                    "fullname": user.name,
                    "email": f"{user.name}@sandbox.invalid",
                    "emailVerified": True,
                    "isPro": False,
                    "canPay": False,
                    "avatarUrl": f"{_base_url(request)}/avatars/{user.name}.svg",
                    "periodEnd": None,
                    "orgs": orgs,
                    "auth": {
                        "type": "access_token",
                        "accessToken": {
                            "displayName": "sandbox",
                            "role": who.role,
                            "createdAt": hub_timestamp(token.created_at),
                        },
                    },
                }
            )

    async def harnesses(self, request: Request) -> Response:
        return json_response({"standardEnvVars": [], "harnesses": {}})

    # -- repository lifecycle -------------------------------------------------------------------

    def _target_namespace(self, who: Principal, namespace: str) -> None:
        if not self.store.is_member(who, namespace):
            raise ApiError(
                403, f"You don't have the rights to create a space under the namespace {namespace}"
            )

    def _check_visibility(self, data: dict[str, Any], default: str) -> str:
        visibility = data.get("visibility")
        if visibility is None:
            private = data.get("private")
            if private is None:
                return default
            if not isinstance(private, bool):
                raise ApiError(400, '"private" must be a boolean')
            return "private" if private else "public"
        if visibility not in VISIBILITIES:
            raise ApiError(400, '"visibility" must be one of public, private, protected')
        return str(visibility)

    def _settings_list(self, data: dict[str, Any], name: str) -> list[dict[str, Any]]:
        items = data.get(name) or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ApiError(400, f'"{name}" must be a list of objects')
        for item in items:
            key = item.get("key")
            if not isinstance(key, str) or not _KEY_RE.match(key):
                raise ApiError(400, f'Invalid {name[:-1]} key: "{key}"')
            if not isinstance(item.get("value", ""), str):
                raise ApiError(400, f'Value of {name[:-1]} "{key}" must be a string')
        return items

    def _apply_space_options(self, space: Space, data: dict[str, Any], sdk: str) -> None:
        """hardware, sleepTimeSeconds, secrets, variables, volumes of a create/duplicate body."""
        now = self.clock()
        hardware = data.get("hardware")
        if hardware is not None:
            if sdk == "static":
                raise ApiError(400, "Static Spaces do not run on hardware")
            if not isinstance(hardware, str) or hardware not in HARDWARE_NAMES:
                raise ApiError(400, f"Invalid hardware flavor: {hardware}")
            space.hardware = str(hardware)
        sleep = data.get("sleepTimeSeconds")
        if sleep is not None:
            space.sleep_time = _sleep_seconds(sleep)
        for item in self._settings_list(data, "secrets"):
            space.secrets[item["key"]] = Setting(
                item.get("value", ""), item.get("description"), now
            )
        for item in self._settings_list(data, "variables"):
            space.variables[item["key"]] = Setting(
                item.get("value", ""), item.get("description"), now
            )
        if data.get("volumes"):
            if sdk == "static":
                raise ApiError(400, "Volumes are not supported on static Spaces")
            space.volumes = _volumes(data["volumes"])

    async def create_repo(self, request: Request) -> Response:
        who = self.writer(request)  # credentials before the body, as the Hub answers
        data = await _json_body(request)
        repo_type = data.get("type") or "model"
        if repo_type != "space":
            raise ApiError(400, f"The Hub sandbox only hosts Spaces, not {repo_type} repositories")
        name = _str_field(data, "name")
        assert name is not None
        namespace = data.get("organization") or who.user
        if not isinstance(namespace, str):
            raise ApiError(400, '"organization" must be a string')
        problem = repo_name_problem(name)
        if problem:
            raise ApiError(400, problem)
        sdk = data.get("sdk")
        if sdk not in runtime.SDKS:
            raise ApiError(
                400, '"sdk" is required and must be one of gradio, streamlit, docker, static'
            )
        if data.get("template"):
            raise ApiError(400, "Space templates are not available in the Hub sandbox")
        visibility = self._check_visibility(data, "public")
        self._target_namespace(who, namespace)
        repo_id = f"{namespace}/{name}"
        with self.store.transaction() as st:
            if st.find(repo_id) is not None:
                existing = st.find(repo_id)
                assert existing is not None
                raise ApiError(
                    409,
                    "You already created this space repo",
                    extra={"url": self.space_url(request, existing.id)},
                )
            space = self._new_space(repo_id, visibility, str(sdk), data, who)
            st.spaces[repo_id.lower()] = space
            return json_response(
                {"url": self.space_url(request, repo_id), "name": repo_id, "id": space.object_id}
            )

    def _new_space(
        self,
        repo_id: str,
        visibility: str,
        sdk: str,
        data: dict[str, Any],
        who: Principal,
        files: dict[str, FileEntry] | None = None,
        title: str = "initial commit",
    ) -> Space:
        st = self.store
        if files is None:
            files = {
                ".gitattributes": st.store_regular(HUB_GITATTRIBUTES.encode()),
                "README.md": st.store_regular(initial_readme(repo_id.split("/")[1], sdk, repo_id)),
            }
            if sdk == "static":
                files["index.html"] = st.store_regular(_STATIC_INDEX.encode())
                files["style.css"] = st.store_regular(_STATIC_CSS.encode())
        first = st.new_commit(repo_id, None, files, title, "", who.user, self.clock())
        space = Space(
            id=repo_id,
            object_id=new_object_id(),
            created_at=self.clock(),
            visibility=visibility,
            commits=[first],
            hardware=None if sdk == "static" else "cpu-basic",
        )
        self._apply_space_options(space, data, sdk)
        self._rebuild(space)
        return space

    async def delete_repo(self, request: Request) -> Response:
        who = self.writer(request)  # credentials before the body, as the Hub answers
        data = await _json_body(request)
        if (data.get("type") or "model") != "space":
            raise ApiError(404, "Repository not found", code="RepoNotFound")
        name = _str_field(data, "name")
        repo_id = f"{data.get('organization') or who.user}/{name}"
        with self.store.transaction() as st:
            space = st.find(repo_id)
            if space is None or not st.can_see(who, space):
                raise ApiError(404, "Repository not found", code="RepoNotFound")
            if not st.is_member(who, space.namespace):
                raise ApiError(403, f"You don't have the rights to delete {space.id}")
            del st.spaces[space.id.lower()]
        return text_ok()

    async def move_repo(self, request: Request) -> Response:
        who = self.writer(request)  # credentials before the body, as the Hub answers
        data = await _json_body(request)
        source = _str_field(data, "fromRepo")
        target = _str_field(data, "toRepo")
        assert source is not None and target is not None
        if (data.get("type") or "model") != "space":
            raise ApiError(404, "Repository not found", code="RepoNotFound")
        if target.count("/") != 1:
            raise ApiError(400, "toRepo must be namespace/name")
        namespace, name = target.split("/")
        problem = repo_name_problem(name)
        if problem:
            raise ApiError(400, problem)
        with self.store.transaction() as st:
            space = st.find(source)
            if space is None or not st.can_see(who, space):
                raise ApiError(404, "Repository not found", code="RepoNotFound")
            if not st.is_member(who, space.namespace):
                raise ApiError(403, f"You don't have the rights to move {space.id}")
            self._target_namespace(who, namespace)
            existing = st.find(target)
            if existing is not None and existing is not space:
                raise ApiError(409, f"A repository named {target} already exists")
            del st.spaces[space.id.lower()]
            space.id = target
            st.spaces[target.lower()] = space
        return text_ok()

    async def settings(self, request: Request) -> Response:
        data = await _json_body(request)
        with self.store.transaction():
            space = self.space(request, write=True)
            if "gated" in data:
                if data["gated"] not in ("auto", "manual", False):
                    raise ApiError(400, '"gated" must be "auto", "manual" or false')
                space.gated = data["gated"]
            if "visibility" in data or "private" in data:
                space.visibility = self._check_visibility(data, space.visibility)
        return json_response({})

    async def duplicate(self, request: Request) -> Response:
        who = self.writer(request)  # credentials before the body, as the Hub answers
        data = await _json_body(request)
        target = _str_field(data, "repository")
        assert target is not None
        if target.count("/") != 1:
            raise ApiError(400, '"repository" must be namespace/name')
        namespace, name = target.split("/")
        problem = repo_name_problem(name)
        if problem:
            raise ApiError(400, problem)
        with self.store.transaction() as st:
            source = self.space(request, files=True)
            self._target_namespace(who, namespace)
            existing = st.find(target)
            if existing is not None:
                raise ApiError(
                    409,
                    "You already created this space repo",
                    extra={"url": self.space_url(request, existing.id)},
                )
            sdk = _sdk_of(st, source.head) or "gradio"
            copied = {
                k: Setting(v.value, v.description, self.clock())
                for k, v in source.variables.items()
            }
            space = self._new_space(
                target,
                self._check_visibility(data, source.visibility),
                sdk,
                {
                    **data,
                    "hardware": data.get("hardware")
                    or (source.hardware if sdk != "static" else None),
                },
                who,
                files=dict(source.head.files),
                title=f"Duplicated from {source.id}",
            )
            space.variables = {**copied, **space.variables}
            space.lfs_objects = set(source.lfs_objects)
            self._rebuild(space)
            st.spaces[target.lower()] = space
            return json_response(
                {"url": self.space_url(request, target), "filesCopyPending": False}
            )

    # -- reading --------------------------------------------------------------------------------

    def space_json(
        self,
        request: Request,
        space: Space,
        commit: Commit,
        fields: Iterable[str],
        *,
        blobs: bool = False,
    ) -> dict[str, Any]:
        """The `_id`, `id` and the requested `fields` of a Space as `/api/spaces` renders them."""
        st = self.store
        card = front_matter(st.read_file(commit, "README.md"))
        sdk = _sdk_of(st, commit)
        data: dict[str, Any] = {"_id": space.object_id, "id": space.id}
        for name in fields:
            if name == "author":
                data["author"] = space.namespace
            elif name == "sha":
                data["sha"] = commit.id
            elif name == "lastModified":
                data["lastModified"] = hub_timestamp(commit.date)
            elif name == "createdAt":
                data["createdAt"] = hub_timestamp(space.created_at)
            elif name == "private":
                data["private"] = space.private
                if space.visibility == "protected":
                    data["visibility"] = "protected"
            elif name == "gated":
                data["gated"] = space.gated
            elif name == "disabled":
                data["disabled"] = False
            elif name == "host":
                data["host"] = f"https://{space.subdomain}.hf.space"
            elif name == "subdomain":
                data["subdomain"] = space.subdomain
            elif name == "likes":
                data["likes"] = space.likes
            elif name == "trendingScore":
                data["trendingScore"] = 0
            elif name == "sdk":
                if sdk is not None:
                    data["sdk"] = sdk
            elif name == "tags":
                data["tags"] = _tags(sdk, card)
            elif name == "siblings":
                data["siblings"] = [
                    _sibling(path, e, blobs) for path, e in sorted(commit.files.items())
                ]
            elif name == "cardData":
                if card is not None:
                    data["cardData"] = card
            elif name == "runtime":
                data["runtime"] = self.runtime_json(space)
            elif name in ("models", "datasets"):
                data[name] = []
            elif name == "usedStorage":
                data["usedStorage"] = sum(e.size for e in commit.files.values())
            elif name == "xetEnabled":
                data["xetEnabled"] = False
            elif name == "region":
                data["region"] = "us"
        return data

    async def space_info(self, request: Request) -> Response:
        expand = request.query_params.getlist("expand")
        unknown = [e for e in expand if e not in SPACE_EXPAND]
        if unknown:
            raise ApiError(400, f'"expand" must be one of {", ".join(sorted(SPACE_EXPAND))}')
        blobs = _bool_arg(request, "blobs")
        with self.store.transaction():
            space = self.space(request)
            rev = _param(request, "rev") if "rev" in request.path_params else "main"
            commit = space.resolve(rev)
            fields = expand or _INFO_FIELDS
            if "siblings" in fields and not self.store.can_read_files(
                self.principal(request), space
            ):
                fields = [f for f in fields if f != "siblings"]
            return json_response(self.space_json(request, space, commit, fields, blobs=blobs))

    async def list_spaces(self, request: Request) -> Response:
        q = request.query_params
        expand = q.getlist("expand")
        if expand and _bool_arg(request, "full"):
            raise ApiError(400, "Use either expand or full, not both")
        unknown = [e for e in expand if e not in SPACE_EXPAND]
        if unknown:
            raise ApiError(400, f'"expand" must be one of {", ".join(sorted(SPACE_EXPAND))}')
        fields = expand or (_INFO_FIELDS if _bool_arg(request, "full") else _LIST_FIELDS)
        who = self.principal(request)
        with self.store.transaction() as st:
            spaces = [s for s in st.spaces.values() if st.can_see(who, s)]
            author = q.get("author")
            if author:
                spaces = [s for s in spaces if s.namespace.lower() == author.lower()]
            search = q.get("search")
            if search:
                spaces = [s for s in spaces if search.lower() in s.id.lower()]
            for wanted in q.getlist("filter"):
                spaces = [
                    s
                    for s in spaces
                    if wanted
                    in _tags(_sdk_of(st, s.head), front_matter(st.read_file(s.head, "README.md")))
                ]
            sort = q.get("sort")
            if sort in ("lastModified", "createdAt", "likes", "trendingScore"):
                keys: dict[str, Callable[[Space], Any]] = {
                    "lastModified": lambda s: s.head.date,
                    "createdAt": lambda s: s.created_at,
                    "likes": lambda s: s.likes,
                    "trendingScore": lambda s: 0,
                }
                spaces.sort(key=keys[sort], reverse=q.get("direction", "-1") == "-1")
            else:
                spaces.sort(key=lambda s: s.created_at)
            page, headers = _paginate(request, spaces, self.options.pages.spaces)
            body = []
            for space in page:
                item_fields = fields
                if "siblings" in fields and not st.can_read_files(who, space):
                    item_fields = [f for f in fields if f != "siblings"]
                body.append(self.space_json(request, space, space.head, item_fields))
            return json_response(body, headers=headers)

    async def hardware_list(self, request: Request) -> Response:
        return json_response(HARDWARE_FLAVORS)

    async def templates(self, request: Request) -> Response:
        return json_response({"templates": []})

    async def auth_check(self, request: Request) -> Response:
        write = request.url.path.endswith("/write")
        with self.store.transaction():
            self.space(request, write=write)
        return json_response({})

    # -- runtime and settings -------------------------------------------------------------------

    def runtime_json(self, space: Space) -> dict[str, Any]:
        """The runtime object every runtime endpoint returns, shaped like the Hub's."""
        stage = space.runtime.stage_at(self.clock())
        running = stage in ("RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING")
        static = space.hardware is None
        data: dict[str, Any] = {
            "stage": stage,
            "hardware": {
                "current": None if static or not running else space.hardware,
                "requested": space.hardware,
            },
            "storage": None,
        }
        if not static:
            data["gcTimeout"] = (
                FREE_SLEEP_SECONDS
                if space.hardware == "cpu-basic"
                else (None if space.sleep_time in (None, -1) else space.sleep_time)
            )
        data["replicas"] = {"requested": 1, "current": 1} if running else {"requested": 1}
        if not static:
            data["devMode"] = space.dev_mode
            data["domains"] = [{"domain": f"{space.subdomain}.hf.space", "stage": "READY"}]
        if space.volumes:
            data["volumes"] = space.volumes
        if (
            stage in ("BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR")
            and space.runtime.error_message
        ):
            data["errorMessage"] = space.runtime.error_message
        return data

    def _rebuild(self, space: Space, *, factory: bool = False) -> None:
        """Start a new build of HEAD (as a commit, restart or settings change does)."""
        st = self.store
        head = space.head
        sdk = _sdk_of(st, head)
        space.runtime = runtime.plan_build(
            sdk=sdk,
            card=front_matter(st.read_file(head, "README.md")) or {},
            read_file=lambda path: st.read_file(head, path),
            hardware=space.hardware or "static",
            now=self.clock(),
            build_seconds=self.options.build_seconds,
            commit=head.id,
            factory=factory,
        )

    def _restart_after_settings(self, space: Space) -> None:
        # The Hub restarts a Space whose secrets, variables, hardware or volumes change;
        # a paused Space stays paused until restarted explicitly.
        if space.runtime.stage_at(self.clock()) != "PAUSED":
            self._rebuild(space)

    async def get_runtime(self, request: Request) -> Response:
        with self.store.transaction():
            return json_response(self.runtime_json(self.space(request)))

    async def secrets(self, request: Request) -> Response:
        data = {} if request.method == "GET" else await _json_body(request)
        with self.store.transaction():
            space = self.space(request, write=request.method != "GET")
            if request.method == "GET":
                who = self.principal(request)
                if not self.store.is_member(who, space.namespace):
                    raise ApiError(403, f"You don't have the rights to read secrets of {space.id}")
                return json_response(
                    {k: _setting_json(s, with_value=False) for k, s in space.secrets.items()}
                )
            key = _str_field(data, "key")
            assert key is not None
            if request.method == "POST":
                self._check_setting(data, key, "secret")
                space.secrets[key] = Setting(data["value"], data.get("description"), self.clock())
            elif space.secrets.pop(key, None) is None:
                return json_response({})
            self._restart_after_settings(space)
            return json_response({})

    async def variables(self, request: Request) -> Response:
        data = {} if request.method == "GET" else await _json_body(request)
        with self.store.transaction():
            space = self.space(request, write=request.method != "GET")
            if request.method == "GET":
                who = self.principal(request)
                if not self.store.is_member(who, space.namespace):
                    raise ApiError(
                        403, f"You don't have the rights to read variables of {space.id}"
                    )
            else:
                key = _str_field(data, "key")
                assert key is not None
                if request.method == "POST":
                    self._check_setting(data, key, "variable")
                    old = space.variables.get(key)
                    description = data.get("description", old.description if old else None)
                    space.variables[key] = Setting(data["value"], description, self.clock())
                    self._restart_after_settings(space)
                elif space.variables.pop(key, None) is not None:
                    self._restart_after_settings(space)
            return json_response(
                {k: _setting_json(s, with_value=True) for k, s in space.variables.items()}
            )

    @staticmethod
    def _check_setting(data: dict[str, Any], key: str, kind: str) -> None:
        if not _KEY_RE.match(key):
            raise ApiError(400, f'Invalid {kind} key "{key}": use letters, digits and _')
        if not isinstance(data.get("value"), str):
            raise ApiError(400, f'"value" of {kind} "{key}" must be a string')
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            raise ApiError(400, '"description" must be a string')

    def _not_static(self, space: Space, what: str) -> None:
        if space.hardware is None:
            raise ApiError(400, f"Static Spaces are always running and never billed: {what}")

    async def request_hardware(self, request: Request) -> Response:
        data = await _json_body(request)
        with self.store.transaction():
            space = self.space(request, write=True)
            self._not_static(space, "cannot change hardware")
            flavor = data.get("flavor")
            if not isinstance(flavor, str) or flavor not in HARDWARE_NAMES:
                raise ApiError(400, f"Invalid hardware flavor: {flavor}")
            if data.get("sleepTimeSeconds") is not None:
                space.sleep_time = _sleep_seconds(data["sleepTimeSeconds"])
            changed = space.hardware != flavor
            space.hardware = str(flavor)
            if changed:
                self._restart_after_settings(space)
            return json_response(self.runtime_json(space))

    async def sleeptime(self, request: Request) -> Response:
        data = await _json_body(request)
        with self.store.transaction():
            space = self.space(request, write=True)
            self._not_static(space, "they do not sleep")
            space.sleep_time = _sleep_seconds(data.get("seconds"))
            return json_response(self.runtime_json(space))

    async def pause(self, request: Request) -> Response:
        with self.store.transaction():
            space = self.space(request, write=True)
            self._not_static(space, "cannot be paused")
            space.runtime = runtime.fixed("PAUSED")
            return json_response(self.runtime_json(space))

    async def restart(self, request: Request) -> Response:
        with self.store.transaction():
            space = self.space(request, write=True)
            self._not_static(space, "cannot be restarted")
            self._rebuild(space, factory=_bool_arg(request, "factory"))
            return json_response(self.runtime_json(space))

    async def dev_mode(self, request: Request) -> Response:
        data = await _json_body(request)
        with self.store.transaction():
            space = self.space(request, write=True)
            self._not_static(space, "dev mode is not available")
            if not isinstance(data.get("enabled"), bool):
                raise ApiError(400, '"enabled" must be a boolean')
            space.dev_mode = data["enabled"]
            return json_response(self.runtime_json(space))

    async def volumes(self, request: Request) -> Response:
        data = await _json_body(request) if request.method == "PUT" else {}
        with self.store.transaction():
            space = self.space(request, write=True)
            if space.hardware is None:
                raise ApiError(400, "Volumes are not supported on static Spaces")
            if request.method == "PUT":
                space.volumes = _volumes(data.get("volumes"))
            elif not space.volumes:
                raise ApiError(400, f"Space {space.id} has no volumes to delete")
            else:
                space.volumes = None
            self._restart_after_settings(space)
            return json_response({})

    async def logs(self, request: Request) -> Response:
        kind = _param(request, "kind")
        if kind not in ("build", "run"):
            raise ApiError(404, "Not Found")
        with self.store.transaction():
            space = self.space(request)
            state = space.runtime

        async def events() -> AsyncIterator[bytes]:
            sent = 0
            while True:
                now = self.clock()
                lines = state.logs(kind, now)
                for line in lines[sent:]:
                    event = {"data": line.text, "timestamp": hub_timestamp(line.at)}
                    yield f"data: {json.dumps(event)}\n\n".encode()
                sent = len(lines)
                # While a build is running its logs keep coming: stream them, then close.
                if now >= state.settled_at() or space.runtime is not state:
                    return
                await asyncio.sleep(0.1)

        return StreamingResponse(events(), media_type="text/event-stream")

    # -- files ----------------------------------------------------------------------------------

    def _entry_json(
        self, space: Space, commit: Commit, path: str, entry: FileEntry | None, expand: bool
    ) -> dict[str, Any]:
        if entry is None:
            data: dict[str, Any] = {
                "type": "directory",
                "oid": _tree_oid(commit.files, path),
                "size": 0,
                "path": path,
            }
        else:
            data = {"type": "file", "oid": entry.oid, "size": entry.size, "path": path}
            if entry.sha256:
                data["lfs"] = {
                    "oid": entry.sha256,
                    "size": entry.size,
                    "pointerSize": entry.pointer_size,
                }
        if expand:
            last = self.store.last_commit_touching(space, commit, path)
            data["lastCommit"] = {
                "id": last.id,
                "title": last.title,
                "date": hub_timestamp(last.date),
            }
        return data

    async def tree(self, request: Request) -> Response:
        expand = _bool_arg(request, "expand")
        recursive = _bool_arg(request, "recursive")
        with self.store.transaction():
            space = self.space(request, files=True)
            commit = space.resolve(_param(request, "rev"))
            base = _param(request, "path").strip("/") if "path" in request.path_params else ""
            files = commit.files
            if base and (base in files or not any(p.startswith(base + "/") for p in files)):
                raise ApiError(404, f"{base} does not exist on main", code="EntryNotFound")
            prefix = base + "/" if base else ""
            dirs: set[str] = set()
            found: list[str] = []
            for path in files:
                if not path.startswith(prefix):
                    continue
                rest = path[len(prefix) :].split("/")
                for depth in range(1, len(rest)):
                    if recursive or depth == 1:
                        dirs.add(prefix + "/".join(rest[:depth]))
                if recursive or len(rest) == 1:
                    found.append(path)
            ordered = [(d, None) for d in sorted(dirs)] + [(p, files[p]) for p in sorted(found)]
            if recursive:
                ordered.sort(key=lambda item: item[0])
            size = self.options.pages.tree_expand if expand else self.options.pages.tree
            page, headers = _paginate(request, ordered, size)
            body = [self._entry_json(space, commit, p, e, expand) for p, e in page]
            return json_response(body, headers=headers)

    async def paths_info(self, request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        paths = form.get("paths", [])
        expand = form.get("expand", ["false"])[-1].lower() == "true"
        with self.store.transaction():
            space = self.space(request, files=True)
            commit = space.resolve(_param(request, "rev"))
            body = []
            for raw in paths:
                path = raw.strip("/")
                if path in commit.files:
                    body.append(self._entry_json(space, commit, path, commit.files[path], expand))
                elif path and any(p.startswith(path + "/") for p in commit.files):
                    body.append(self._entry_json(space, commit, path, None, expand))
            return json_response(body)

    async def preupload(self, request: Request) -> Response:
        data = await _json_body(request)
        files = data.get("files")
        if not isinstance(files, list) or not all(
            isinstance(f, dict) and isinstance(f.get("path"), str) for f in files
        ):
            raise ApiError(400, '"files" must be a list of {path, sample, size}')
        with self.store.transaction() as st:
            space = self.space(request, write=True)
            commit = space.resolve(_param(request, "rev"))
            attributes = st.read_file(commit, ".gitattributes") or b""
            lfs_rules = _lfs_patterns(attributes)
            ignore_text = data.get("gitIgnore")
            if not isinstance(ignore_text, str):
                ignore_text = (st.read_file(commit, ".gitignore") or b"").decode("utf-8", "replace")
            ignore = _GitPatterns(ignore_text.splitlines())
            answers = []
            for item in files:
                path = item["path"]
                answer: dict[str, Any] = {
                    "path": path,
                    "uploadMode": self._upload_mode(item, lfs_rules),
                    "shouldIgnore": ignore.matches(path),
                }
                current = commit.files.get(path)
                if current is not None:
                    answer["oid"] = current.sha256 or current.oid
                answers.append(answer)
            return json_response({"files": answers, "commitOid": commit.id})

    def _upload_mode(self, item: dict[str, Any], lfs_rules: _GitPatterns) -> str:
        if self.options.upload_mode == "regular":
            return "regular"
        size = item.get("size")
        if isinstance(size, int) and size >= LFS_THRESHOLD:
            return "lfs"
        try:
            sample = base64.b64decode(str(item.get("sample") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, f"Invalid base64 sample for {item['path']}") from None
        if b"\0" in sample or lfs_rules.matches(item["path"]):
            return "lfs"
        return "regular"

    async def commit(self, request: Request) -> Response:
        self.writer(request)  # no, bad or read-only credentials: 401/403 whatever the body
        if _bool_arg(request, "create_pr"):
            raise ApiError(400, "Pull requests are not supported by the Hub sandbox")
        lines = (await request.body()).decode("utf-8", "replace").splitlines()
        operations = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                raise ApiError(
                    400, f"Invalid JSON on line {number} of the commit payload"
                ) from None
            if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
                raise ApiError(400, f"Line {number}: expected {{key, value}}")
            operations.append((str(item.get("key")), item["value"]))
        if not operations or operations[0][0] != "header":
            raise ApiError(400, "The commit payload must start with a header line")
        header = operations[0][1]
        summary = header.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise ApiError(400, "The commit summary must not be empty")
        if not isinstance(header.get("description", ""), str):
            raise ApiError(400, "The commit description must be a string")
        with self.store.transaction() as st:
            space = self.space(request, write=True)
            who = self.principal(request)
            assert who is not None
            rev = _param(request, "rev")
            if rev not in ("main", "refs/heads/main"):
                raise ApiError(404, f"Invalid rev id: {rev}", code="RevisionNotFound")
            parent = header.get("parentCommit")
            if parent is not None and not (isinstance(parent, str) and _COMMIT_ID.match(parent)):
                raise ApiError(400, "parentCommit must be a commit id (5 to 40 hex digits)")
            if parent and not space.head.id.startswith(parent.lower()):
                raise ApiError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(space.head.files)
            for key, value in operations[1:]:
                self._apply_operation(space, files, key, value)
            _check_file_folder_clash(files)
            commit = st.new_commit(
                space.id,
                space.head,
                files,
                summary.strip(),
                str(header.get("description") or ""),
                who.user,
                self.clock(),
            )
            space.commits.append(commit)
            if space.runtime.stage_at(self.clock()) != "PAUSED":
                self._rebuild(space)
            return json_response(
                {
                    "success": True,
                    "commitOid": commit.id,
                    "commitUrl": f"{self.space_url(request, space.id)}/commit/{commit.id}",
                    "hookOutput": "",
                }
            )

    def _apply_operation(
        self, space: Space, files: dict[str, FileEntry], key: str, value: dict[str, Any]
    ) -> None:
        path = _checked_path(value.get("path"))
        st = self.store
        if key == "file":
            encoding = value.get("encoding", "base64")
            content = value.get("content", "")
            if not isinstance(content, str):
                raise ApiError(400, f"{path}: content must be a string")
            if encoding == "base64":
                try:
                    data = base64.b64decode(content, validate=True)
                except (binascii.Error, ValueError):
                    raise ApiError(400, f"{path}: content is not valid base64") from None
            elif encoding == "utf-8":
                data = content.encode()
            else:
                raise ApiError(400, f"{path}: unknown encoding {encoding!r}")
            if self.options.upload_mode == "auto" and len(data) >= LFS_THRESHOLD:
                raise ApiError(
                    400,
                    f"Your push was rejected because {path} is larger than 10 MiB. "
                    "Use LFS (Git Large File Storage) for large files.",
                )
            files[path] = st.store_regular(data)
        elif key == "lfsFile":
            oid = str(value.get("oid", "")).lower()
            if value.get("algo", "sha256") != "sha256" or not _HEX64.match(oid):
                raise ApiError(400, f"{path}: lfsFile needs a sha256 oid")
            if oid not in space.lfs_objects or not st.blobs.has(f"lfs/{oid}"):
                raise ApiError(
                    400,
                    "Your push was rejected because an LFS pointer pointed to a file that "
                    f"does not exist: {path} ({oid}). Upload it through the LFS batch API first.",
                )
            blob = st.blobs.get(f"lfs/{oid}")
            stored = len(blob) if blob is not None else 0
            size = value.get("size", stored)  # copies send no size
            if size != stored or isinstance(size, bool):
                raise ApiError(
                    400, f"{path}: size {size!r} does not match the uploaded object ({stored})"
                )
            files[path] = st.lfs_entry(oid, stored)
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                raise ApiError(
                    404, f"A file with this name doesn't exist: {path}", code="EntryNotFound"
                )
        elif key == "deletedFolder":
            prefix = path.rstrip("/") + "/"
            doomed = [p for p in files if p.startswith(prefix)]
            if not doomed:
                raise ApiError(
                    404, f"A folder with this name doesn't exist: {path}", code="EntryNotFound"
                )
            for p in doomed:
                del files[p]
        else:
            raise ApiError(400, f"Unknown commit operation {key!r}")

    async def list_commits(self, request: Request) -> Response:
        with self.store.transaction():
            space = self.space(request, files=True)
            head = space.resolve(_param(request, "rev"))
            history = list(reversed(space.commits[: space.commits.index(head) + 1]))
            page, headers = _paginate(request, history, self.options.pages.commits)
            body = [
                {
                    "id": c.id,
                    "title": c.title,
                    "message": c.message,
                    "date": hub_timestamp(c.date),
                    "authors": [{"user": c.author}],
                }
                for c in page
            ]
            return json_response(body, headers=headers)

    async def refs(self, request: Request) -> Response:
        with self.store.transaction():
            space = self.space(request, files=True)
            branch = {"name": "main", "ref": "refs/heads/main", "targetCommit": space.head.id}
            return json_response({"branches": [branch], "converts": [], "tags": []})

    async def xet_token(self, request: Request) -> Response:
        with self.store.transaction():
            self.space(request)
        raise ApiError(501, _XET_MESSAGE)

    async def validate_yaml(self, request: Request) -> Response:
        # huggingface_hub reads the JSON before checking the status: always answer JSON.
        try:
            data = await _json_body(request)
        except ApiError as error:
            return json_response({"errors": [{"message": error.message}], "warnings": []}, 400)
        content = data.get("content")
        if not isinstance(content, str):
            return json_response(
                {"errors": [{"message": '"content" is required'}], "warnings": []}, 400
            )
        errors = []
        if content.startswith("---") and front_matter(content.encode()) is None:
            errors.append({"message": "Invalid YAML in the README.md front matter"})
        card = front_matter(content.encode()) or {}
        if data.get("repoType") == "space":
            errors += [{"message": message} for message in _space_card_errors(card)]
        return json_response({"errors": errors, "warnings": []}, 400 if errors else 200)

    # -- LFS --------------------------------------------------------------------------------

    def _lfs_space(self, request: Request) -> Space:
        repo = _param(request, "repo")
        if not repo.endswith(".git"):
            raise ApiError(404, "Not Found")
        request.path_params["name"] = quote(repo[: -len(".git")], safe="")
        return self.space(request, write=True)

    async def lfs_batch(self, request: Request) -> Response:
        data = await _json_body(request)
        if data.get("operation") != "upload":
            raise ApiError(400, "The Hub sandbox only supports LFS uploads through the batch API")
        objects = data.get("objects")
        if not isinstance(objects, list):
            raise ApiError(400, '"objects" must be a list')
        with self.store.transaction() as st:
            space = self._lfs_space(request)
            answers = []
            for obj in objects:
                oid = str(obj.get("oid", "")) if isinstance(obj, dict) else ""
                size = obj.get("size") if isinstance(obj, dict) else None
                if not _HEX64.match(oid) or not isinstance(size, int) or size < 0:
                    answers.append(
                        {
                            "oid": oid,
                            "size": size or 0,
                            "error": {"code": 422, "message": "Invalid object"},
                        }
                    )
                    continue
                answer: dict[str, Any] = {"oid": oid, "size": size}
                if not (oid in space.lfs_objects and st.blobs.has(f"lfs/{oid}")):
                    upload_id = secrets.token_urlsafe(24)
                    st.uploads[upload_id] = (space.id, oid, size)
                    base = _base_url(request)
                    answer["actions"] = {
                        "upload": {"href": f"{base}/sandbox-lfs/{upload_id}"},
                        "verify": {"href": f"{base}/spaces/{space.id}.git/info/lfs/objects/verify"},
                    }
                answers.append(answer)
        body = json.dumps({"transfer": "basic", "objects": answers}).encode()
        return Response(body, media_type=LFS_TYPE)

    async def lfs_upload(self, request: Request) -> Response:
        # No Authorization header arrives here (as on the Hub): the unguessable id is the grant.
        upload_id = _param(request, "upload_id")
        body = await request.body()
        with self.store.transaction() as st:
            pending = st.uploads.get(upload_id)
            if pending is None:
                raise ApiError(404, "Unknown or expired upload URL")
            space_id, oid, size = pending
            if len(body) != size or hashlib.sha256(body).hexdigest() != oid:
                raise ApiError(
                    400, "The uploaded content does not match the announced oid and size"
                )
            st.blobs.put(f"lfs/{oid}", body)
            space = st.find(space_id)
            if space is not None:
                space.lfs_objects.add(oid)
            del st.uploads[upload_id]
        return Response(b"", status_code=200)

    async def lfs_verify(self, request: Request) -> Response:
        data = await _json_body(request)
        with self.store.transaction() as st:
            space = self._lfs_space(request)
            oid = str(data.get("oid", ""))
            if oid not in space.lfs_objects or not st.blobs.has(f"lfs/{oid}"):
                raise ApiError(404, f"LFS object {oid} was not uploaded")
        return json_response({})

    async def resolve(self, request: Request) -> Response:
        with self.store.transaction() as st:
            space = self.space(request, files=True)
            commit = space.resolve(_param(request, "rev"))
            path = _param(request, "path")
            entry = commit.files.get(path)
            if entry is None:
                raise ApiError(404, "Entry not found", code="EntryNotFound")
            data = st.blobs.get(entry.blob_key) or b""
        etag = entry.sha256 or entry.oid
        headers = {
            "X-Repo-Commit": commit.id,
            "ETag": f'"{etag}"',
            "Content-Length": str(entry.size),
            "Accept-Ranges": "bytes",
        }
        if entry.sha256:
            headers["X-Linked-Etag"] = f'"{etag}"'
            headers["X-Linked-Size"] = str(entry.size)
        body = b"" if request.method == "HEAD" else data
        return Response(body, media_type="application/octet-stream", headers=headers)

    # -- control API ------------------------------------------------------------------------

    async def ctl_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.log.clear()
            return json_response({})
        return json_response(self.log.entries())

    async def ctl_faults(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.faults.settings = self.faults.settings.updated(await _json_body(request))
            except (ValueError, KeyError, TypeError) as error:
                raise ApiError(400, f"Invalid faults: {error}") from None
        return json_response(self.faults.settings.to_json())

    async def ctl_config(self, request: Request) -> Response:
        if request.method == "PUT":
            data = await _json_body(request)
            if "build_seconds" in data:
                seconds = data["build_seconds"]
                if not isinstance(seconds, (int, float)) or seconds < 0:
                    raise ApiError(400, "build_seconds must be a number >= 0")
                self.options.build_seconds = float(seconds)
            if "upload_mode" in data:
                if data["upload_mode"] not in ("auto", "regular"):
                    raise ApiError(400, "upload_mode must be auto or regular")
                self.options.upload_mode = data["upload_mode"]
            for name, value in (data.get("page_size") or {}).items():
                if not hasattr(self.options.pages, name) or not isinstance(value, int) or value < 1:
                    raise ApiError(400, f"Invalid page_size.{name}")
                setattr(self.options.pages, name, value)
        return json_response(self.options.to_json())

    async def ctl_users(self, request: Request) -> Response:
        with self.store.transaction() as st:
            users = [
                {"name": t.user, "token": token, "role": t.role} for token, t in st.tokens.items()
            ]
            orgs = [{"name": o.name, "members": o.members} for o in st.orgs.values()]
        return json_response({"users": users, "orgs": orgs})

    async def ctl_clock(self, request: Request) -> Response:
        if request.method == "PUT":
            advance = (await _json_body(request)).get("advance_seconds")
            if not isinstance(advance, (int, float)) or isinstance(advance, bool) or advance < 0:
                raise ApiError(400, "advance_seconds must be a number >= 0")
            self.clock_offset += float(advance)
        now = self.clock()
        return json_response({"now": hub_timestamp(now), "offset_seconds": self.clock_offset})

    async def ctl_stage(self, request: Request) -> Response:
        data = await _json_body(request)
        stage = data.get("stage")
        if stage not in runtime.FORCEABLE_STAGES:
            raise ApiError(
                400, f"stage must be one of {', '.join(sorted(runtime.FORCEABLE_STAGES))}"
            )
        with self.store.transaction() as st:
            space = st.find(f"{_param(request, 'ns')}/{_param(request, 'name')}")
            if space is None:
                raise ApiError(404, "Repository not found", code="RepoNotFound")
            space.runtime = runtime.fixed(str(stage), data.get("errorMessage"))
            return json_response(self.runtime_json(space))


# Keys of a Space in `space_info` without expand, and in `list_spaces` without expand/full.
_INFO_FIELDS = (
    "author",
    "sha",
    "lastModified",
    "private",
    "gated",
    "disabled",
    "host",
    "subdomain",
    "likes",
    "sdk",
    "tags",
    "siblings",
    "createdAt",
    "cardData",
    "runtime",
    "models",
    "datasets",
)
_LIST_FIELDS = ("likes", "trendingScore", "private", "sdk", "tags", "createdAt")

_STATIC_INDEX = """<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width" />
    <title>My static Space</title>
    <link rel="stylesheet" href="style.css" />
  </head>
  <body>
    <div class="card">
      <h1>Welcome to your static Space!</h1>
      <p>You can modify this app directly by editing <i>index.html</i> in the Files tab.</p>
    </div>
  </body>
</html>
"""
_STATIC_CSS = """body {
  padding: 2rem;
  font-family: -apple-system, BlinkMacSystemFont, "Arial", sans-serif;
}
"""


def _sdk_of(store: Store, commit: Commit) -> str | None:
    card = front_matter(store.read_file(commit, "README.md")) or {}
    sdk = card.get("sdk")
    return sdk if isinstance(sdk, str) else None


def _tags(sdk: str | None, card: dict[str, Any] | None) -> list[str]:
    tags = [sdk] if sdk else []
    extra = (card or {}).get("tags")
    if isinstance(extra, list):
        tags += [str(t) for t in extra if str(t) not in tags]
    return [*tags, "region:us"]


def _sibling(path: str, entry: FileEntry, blobs: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"rfilename": path}
    if blobs:
        data["size"] = entry.size
        data["blobId"] = entry.oid
        if entry.sha256:
            data["lfs"] = {
                "sha256": entry.sha256,
                "size": entry.size,
                "pointerSize": entry.pointer_size,
            }
    return data


def _setting_json(setting: Setting, *, with_value: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"value": setting.value} if with_value else {}
    if setting.description is not None:
        data["description"] = setting.description
    data["updatedAt"] = hub_timestamp(setting.updated_at)
    return data


def _sleep_seconds(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or (value < 0 and value != -1):
        raise ApiError(400, "Sleep time must be a number of seconds, or -1 to never sleep")
    return value


def _space_card_errors(card: dict[str, Any]) -> list[str]:
    """What the Hub's front-matter validation refuses in a Space README (the documented types
    and choices of the Spaces configuration reference; not every rule the Hub has)."""
    errors = []
    if "sdk" in card and card["sdk"] not in runtime.SDKS:
        errors.append('"sdk" must be one of [gradio, streamlit, docker, static]')
    for key in ("colorFrom", "colorTo"):
        if key in card and card[key] not in CARD_COLORS:
            errors.append(f'"{key}" must be one of [{", ".join(CARD_COLORS)}]')
    if "app_port" in card and (
        not isinstance(card["app_port"], int) or isinstance(card["app_port"], bool)
    ):
        errors.append('"app_port" must be a number')
    if "pinned" in card and not isinstance(card["pinned"], bool):
        errors.append('"pinned" must be a boolean')
    return errors


def _volumes(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ApiError(400, '"volumes" must be a non-empty list')
    result = []
    for item in value:
        if not isinstance(item, dict):
            raise ApiError(400, "Each volume must be an object")
        kind = item.get("type", "model")
        if kind not in ("bucket", "model", "dataset", "space"):
            raise ApiError(400, f"Invalid volume type: {kind}")
        source, mount = item.get("source"), item.get("mountPath")
        if not isinstance(source, str) or not source:
            raise ApiError(400, "Each volume needs a source")
        if not isinstance(mount, str) or not mount.startswith("/"):
            raise ApiError(400, "Each volume needs an absolute mountPath")
        volume: dict[str, Any] = {"type": kind, "source": source, "mountPath": mount}
        for optional in ("revision", "path"):
            if item.get(optional) is not None:
                volume[optional] = item[optional]
        # Repository volumes are always mounted read-only on the Hub.
        read_only = True if kind != "bucket" else bool(item.get("readOnly", False))
        volume["readOnly"] = read_only
        result.append(volume)
    return result


def _check_file_folder_clash(files: dict[str, FileEntry]) -> None:
    """A git tree cannot hold a file and a folder of the same name (`a` and `a/b`): refuse the
    commit that would make one, as the Hub cannot store it either."""
    folders = {path[:i] for path in files for i, c in enumerate(path) if c == "/"}
    clash = sorted(folders.intersection(files))
    if clash:
        raise ApiError(400, f"'{clash[0]}' cannot be both a file and a folder")


def _checked_path(value: Any) -> str:
    if not isinstance(value, str) or not value.strip("/"):
        raise ApiError(400, "Each commit operation needs a non-empty path")
    path = value.lstrip("/")
    if path.startswith("./"):
        path = path[2:]
    parts = path.rstrip("/").split("/")
    if any(p in ("", ".", "..", ".git") for p in parts):
        raise ApiError(400, f"Invalid path in commit: {value!r}")
    return path


def _lfs_patterns(gitattributes: bytes) -> _GitPatterns:
    patterns = []
    for line in gitattributes.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
            patterns.append(parts[0])
    return _GitPatterns(patterns)


class _GitPatterns:
    """`.gitignore`/`.gitattributes` patterns, with the common parts of git's semantics.

    A pattern without `/` matches a name at any depth; one with `/` matches from the root
    (`**` spans folders); a trailing `/` matches a folder and everything under it; `!`
    re-includes; the last matching pattern wins.
    """

    def __init__(self, lines: Iterable[str]) -> None:
        # (negated, pattern, anchored at the root, folder only)
        self._rules: list[tuple[bool, str, bool, bool]] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line[1:] if negated else line
            body = line.rstrip("/")
            self._rules.append((negated, body.lstrip("/"), "/" in body, line.endswith("/")))

    def matches(self, path: str) -> bool:
        matched = False
        for negated, pattern, anchored, folder in self._rules:
            if _pattern_hits(pattern, path, anchored=anchored, folder=folder):
                matched = not negated
        return matched


def _pattern_hits(pattern: str, path: str, *, anchored: bool, folder: bool) -> bool:
    parts = path.split("/")
    # Candidates: the path itself, and (for folder patterns or prefixes) each parent folder.
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts))]
    candidates = prefixes if folder else [*prefixes, path]
    if not anchored:
        names = [c.rsplit("/", 1)[-1] for c in candidates]
        return any(fnmatchcase(name, pattern) for name in names)
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
    regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
    return any(re.fullmatch(regex, c) for c in candidates)


def _tree_oid(files: dict[str, FileEntry], directory: str) -> str:
    """The git tree SHA-1 of `directory` in a snapshot, as git would compute it."""
    prefix = directory + "/" if directory else ""
    children: dict[str, tuple[bytes, str]] = {}
    for path, entry in files.items():
        if not path.startswith(prefix):
            continue
        head, _, rest = path[len(prefix) :].partition("/")
        if rest:
            children.setdefault(head, (b"40000", ""))
        else:
            oid = (
                git_blob_sha1(lfs_pointer(entry.sha256, entry.size)) if entry.sha256 else entry.oid
            )
            children[head] = (b"100644", oid)
    body = b""
    # git orders tree entries by name, with directories compared as if they ended in "/".
    for name in sorted(children, key=lambda n: n + "/" if children[n][0] == b"40000" else n):
        mode, oid = children[name]
        if mode == b"40000":
            oid = _tree_oid(files, prefix + name)
        body += mode + b" " + name.encode() + b"\0" + bytes.fromhex(oid)
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


class RawPathMiddleware:
    """Routes on the raw path: percent-escapes stay inside one path segment until `_param`.

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
        request_id = f"Root=1-sandbox-{secrets.token_hex(8)}".encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"x-request-id", request_id),
                    (b"date", formatdate(self.clock(), usegmt=True).encode()),
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_id)
