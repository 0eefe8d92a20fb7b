"""The route table: which handler answers which path and methods.

Paths are matched still percent-encoded (see `httputil.RawPathMiddleware`), so a parameter
holds one segment, `{path:path}` excepted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from spacectl.sandbox.context import Context
from spacectl.sandbox.faults import CONTROL_PREFIX
from spacectl.sandbox.handlers import (
    apps,
    catalog,
    commits,
    control,
    files,
    lfs,
    oauth,
    repos,
    spaces,
    users,
    xet,
)
from spacectl.sandbox.shapes import APP_PREFIX

Handler = Callable[[Context, Request], Awaitable[Response]]

_SPACE = "/api/spaces/{ns}/{name}"
_GIT = "/spaces/{ns}/{repo}/info/lfs/objects"
_CAS = xet.CAS_PREFIX  # every other CAS path (dedup, grants, v2) is a 404 the client expects
LFS_UPLOAD_PREFIX = "/sandbox-lfs/"
XET_ROOT = xet.CAS_PREFIX.split("{", 1)[0]  # "/sandbox-xet/": the CAS routes

# (path, handler, methods)
ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/api/whoami-v2", users.whoami, ["GET"]),
    ("/api/agent-harnesses", catalog.harnesses, ["GET"]),
    ("/api/repos/create", repos.create, ["POST"]),
    ("/api/repos/delete", repos.delete, ["DELETE"]),
    ("/api/repos/move", repos.move, ["POST"]),
    ("/api/validate-yaml", catalog.validate_yaml, ["POST"]),
    ("/api/spaces", repos.listing, ["GET"]),
    ("/api/spaces/hardware", catalog.hardware, ["GET"]),
    ("/api/spaces/templates", catalog.templates, ["GET"]),
    (_SPACE, repos.info, ["GET"]),
    (_SPACE + "/revision/{rev}", repos.info, ["GET"]),
    (_SPACE + "/settings", repos.update_settings, ["PUT"]),
    (_SPACE + "/runtime", spaces.get_runtime, ["GET"]),
    (_SPACE + "/secrets", spaces.secrets, ["GET", "POST", "DELETE"]),
    (_SPACE + "/variables", spaces.variables, ["GET", "POST", "DELETE"]),
    (_SPACE + "/hardware", spaces.hardware, ["POST"]),
    (_SPACE + "/sleeptime", spaces.sleep_time, ["POST"]),
    (_SPACE + "/pause", spaces.pause, ["POST"]),
    (_SPACE + "/restart", spaces.restart, ["POST"]),
    (_SPACE + "/dev-mode", spaces.dev_mode, ["POST"]),
    (_SPACE + "/volumes", spaces.volumes, ["PUT", "DELETE"]),
    (_SPACE + "/duplicate", repos.duplicate, ["POST"]),
    (_SPACE + "/logs/{kind}", spaces.logs, ["GET"]),
    (_SPACE + "/auth-check", repos.auth_check, ["GET"]),
    (_SPACE + "/auth-check/write", repos.auth_check, ["GET"]),
    (_SPACE + "/tree/{rev}", files.tree, ["GET"]),
    (_SPACE + "/tree/{rev}/{path}", files.tree, ["GET"]),
    (_SPACE + "/paths-info/{rev}", files.paths_info, ["POST"]),
    (_SPACE + "/preupload/{rev}", files.preupload, ["POST"]),
    (_SPACE + "/commit/{rev}", commits.commit, ["POST"]),
    (_SPACE + "/commits/{rev}", commits.history, ["GET"]),
    (_SPACE + "/refs", commits.refs, ["GET"]),
    (_SPACE + "/branch/{branch}", commits.branch, ["POST", "DELETE"]),
    (_SPACE + "/tag/{ref}", commits.tag, ["POST", "DELETE"]),
    (_SPACE + "/xet-write-token/{rev}", xet.write_token, ["GET"]),
    (_SPACE + "/xet-read-token/{rev}", xet.read_token, ["GET"]),
    (_GIT + "/batch", lfs.batch, ["POST"]),
    (_GIT + "/verify", lfs.verify, ["POST"]),
    (LFS_UPLOAD_PREFIX + "{upload_id}", lfs.upload, ["PUT"]),
    (APP_PREFIX + "/{ns}/{name}", apps.serve, ["GET", "HEAD"]),
    (APP_PREFIX + "/{ns}/{name}/{path:path}", apps.serve, ["GET", "HEAD"]),
    (_CAS + "/v1/xorbs/default/{hash}", xet.xorb, ["POST", "HEAD"]),
    (_CAS + "/v1/shards", xet.shard, ["POST"]),
    (_CAS + "/v1/reconstructions/{hash}", xet.reconstruction, ["GET"]),
    (_CAS + "/fetch/{hash}/{signature}", xet.fetch, ["GET"]),
    ("/oauth/token", oauth.token, ["POST"]),
    ("/spaces/{ns}/{name}/resolve/{rev}/{path:path}", files.download, ["GET", "HEAD"]),
    (CONTROL_PREFIX + "requests", control.requests, ["GET", "DELETE"]),
    (CONTROL_PREFIX + "faults", control.faults, ["GET", "PUT"]),
    (CONTROL_PREFIX + "config", control.config, ["GET", "PUT"]),
    (CONTROL_PREFIX + "users", control.users, ["GET"]),
    (CONTROL_PREFIX + "clock", control.clock, ["GET", "PUT"]),
    (CONTROL_PREFIX + "spaces/{ns}/{name}/stage", control.stage, ["POST"]),
    (CONTROL_PREFIX + "oidc", control.oidc, ["GET", "POST", "DELETE"]),
]
