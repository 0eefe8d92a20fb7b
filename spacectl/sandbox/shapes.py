"""How the Hub renders its objects as JSON: Spaces (`space_info`, `list_spaces`), runtimes,
secrets and variables, tree entries, commits and the caller (`whoami`). Every Hub JSON shape the
sandbox answers with is built here, from records the models computed."""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from typing import Any

from spacectl.sandbox.models.cards import card_of, card_repos, sdk_of, tags
from spacectl.sandbox.models.lfs import Advice, BatchObject
from spacectl.sandbox.models.settings import FREE_SLEEP_SECONDS
from spacectl.sandbox.models.trees import TreeItem
from spacectl.sandbox.records import Commit, FileEntry, Org, Principal, Setting, Space, Token, User
from spacectl.sandbox.store import Store

# The `expand` values `space_info` and `list_spaces` accept: the Hub's, which the client's
# `ExpandSpaceProperty_T` lists, plus `xetEnabled`, which the client itself sends before an
# upload (the recorded Hub answers it 200; a test compares both). Keys such as `host` come back
# without expand but are no expand value.
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
        "tags",
        "trendingScore",
        "usedStorage",
        "xetEnabled",
    }
)
# Keys of a Space in `space_info` without expand, and in `list_spaces` without expand/full.
INFO_FIELDS = (
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
LIST_FIELDS = ("likes", "trendingScore", "private", "sdk", "tags", "createdAt")
# Where the sandbox serves a Space's simulated app (handlers/apps.py): its `host`.
APP_PREFIX = "/sandbox-app"


def app_host(base_url: str, space_id: str) -> str:
    """A Space's `host`: the Hub's is `https://{subdomain}.hf.space`, where its app runs; the
    sandbox answers the URL it serves the Space's simulated app at, so a client that reads
    `host` (spacectl's healthcheck) reaches it."""
    return f"{base_url}{APP_PREFIX}/{space_id}"


def hub_timestamp(at: float) -> str:
    """`at` (unix time) as the Hub writes datetimes: `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC."""
    total_ms = int(at * 1000)
    seconds, millis = divmod(total_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def space_json(
    store: Store,
    space: Space,
    commit: Commit,
    fields: Iterable[str],
    *,
    now: float,
    blobs: bool = False,
    base_url: str = "",
) -> dict[str, Any]:
    """The `_id`, `id` and the requested `fields` of a Space at `commit`, as `/api/spaces`
    renders them; `blobs` adds sizes and ids to `siblings`; `base_url` (the sandbox's, as the
    request reached it) makes `host` the simulated app's (`app_host`)."""
    card = card_of(store, commit)
    sdk = sdk_of(store, commit)
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
            data["host"] = (
                app_host(base_url, space.id) if base_url else f"https://{space.subdomain}.hf.space"
            )
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
            data["tags"] = tags(sdk, card, space.region)
        elif name == "siblings":
            data["siblings"] = [
                sibling_json(path, e, blobs) for path, e in sorted(commit.files.items())
            ]
        elif name == "cardData":
            if card is not None:
                data["cardData"] = card
        elif name == "runtime":
            data["runtime"] = runtime_json(space, now)
        elif name in ("models", "datasets"):
            data[name] = card_repos(card, name)
        elif name == "usedStorage":
            data["usedStorage"] = sum(e.size for e in commit.files.values())
        elif name == "xetEnabled":
            data["xetEnabled"] = False
        elif name == "region":
            data["region"] = space.region
    return data


def sibling_json(path: str, entry: FileEntry, blobs: bool) -> dict[str, Any]:
    """A file of `siblings`."""
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


def runtime_json(space: Space, now: float) -> dict[str, Any]:
    """The runtime object every runtime endpoint returns, shaped like the Hub's."""
    stage = space.runtime.stage_at(now)
    running = stage in ("RUNNING", "RUNNING_BUILDING", "RUNNING_APP_STARTING")
    data: dict[str, Any] = {
        "stage": stage,
        "hardware": {
            "current": None if space.static or not running else space.hardware,
            "requested": space.hardware,
        },
        "storage": None,
    }
    if not space.static:
        data["gcTimeout"] = (
            FREE_SLEEP_SECONDS
            if space.hardware == "cpu-basic"
            else (None if space.sleep_time in (None, -1) else space.sleep_time)
        )
    data["replicas"] = {"requested": 1, "current": 1} if running else {"requested": 1}
    if not space.static:
        data["devMode"] = space.dev_mode
        data["domains"] = [{"domain": f"{space.subdomain}.hf.space", "stage": "READY"}]
    if space.volumes:
        data["volumes"] = space.volumes
    if stage in ("BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR") and space.runtime.error_message:
        data["errorMessage"] = space.runtime.error_message
    return data


def settings_json(settings: dict[str, Setting], *, with_value: bool) -> dict[str, Any]:
    """Secrets (`with_value` False: values are never served) or variables, by key."""
    result = {}
    for key, setting in settings.items():
        data: dict[str, Any] = {"value": setting.value} if with_value else {}
        if setting.description is not None:
            data["description"] = setting.description
        data["updatedAt"] = hub_timestamp(setting.updated_at)
        result[key] = data
    return result


def tree_entry_json(item: TreeItem) -> dict[str, Any]:
    """A file or a folder of `list_repo_tree`/`paths-info`, with `lastCommit` when expanded."""
    entry = item.entry
    if entry is None:
        data: dict[str, Any] = {"type": "directory", "oid": item.tree_oid, "size": 0}
    else:
        data = {"type": "file", "oid": entry.oid, "size": entry.size}
    data["path"] = item.path
    if entry is not None and entry.sha256:
        data["lfs"] = {"oid": entry.sha256, "size": entry.size, "pointerSize": entry.pointer_size}
    if item.last_commit is not None:
        last = item.last_commit
        data["lastCommit"] = {"id": last.id, "title": last.title, "date": hub_timestamp(last.date)}
    return data


def preupload_json(advice: list[Advice], commit: Commit) -> dict[str, Any]:
    """`preupload`: each file's upload mode, whether it is ignored, and the oid it has now
    (SHA-256 for LFS files), so that the client skips unchanged files."""
    files = []
    for one in advice:
        answer: dict[str, Any] = {
            "path": one.path,
            "uploadMode": one.mode,
            "shouldIgnore": one.ignored,
        }
        if one.current is not None:
            answer["oid"] = one.current.sha256 or one.current.oid
        files.append(answer)
    return {"files": files, "commitOid": commit.id}


def lfs_batch_json(objects: list[BatchObject], base_url: str, space_id: str) -> dict[str, Any]:
    """The LFS batch API's answer: upload and verify URLs for the objects still to upload."""
    answers = []
    for obj in objects:
        if not obj.valid:
            error = {"code": 422, "message": "Invalid object"}
            answers.append({"oid": obj.oid, "size": obj.size or 0, "error": error})
            continue
        answer: dict[str, Any] = {"oid": obj.oid, "size": obj.size}
        if obj.upload_id is not None:
            answer["actions"] = {
                "upload": {"href": f"{base_url}/sandbox-lfs/{obj.upload_id}"},
                "verify": {"href": f"{base_url}/spaces/{space_id}.git/info/lfs/objects/verify"},
            }
        answers.append(answer)
    return {"transfer": "basic", "objects": answers}


def commit_json(commit: Commit, *, formatted: bool = False) -> dict[str, Any]:
    """A commit of `list_repo_commits`; `formatted` adds the title and message as HTML, as the
    Hub renders them for `formatted=true` (escaped text; the Hub also links `#N` and `@user`,
    which the sandbox does not)."""
    data: dict[str, Any] = {
        "id": commit.id,
        "title": commit.title,
        "message": commit.message,
        "date": hub_timestamp(commit.date),
        "authors": [{"user": commit.author}],
    }
    if formatted:
        message = html.escape(commit.message)
        data["formatted"] = {
            "title": html.escape(commit.title),
            "message": f"<p>{message}</p>" if message else "",
        }
    return data


def refs_json(space: Space, *, pull_requests: bool = False) -> dict[str, Any]:
    """`list_repo_refs`: the branches and tags; with `pull_requests` (`include_prs=1`), the
    Space's pull requests too, which the client then requires: none, as the sandbox has no PRs."""
    heads = {"main": space.head.id} | {n: ids[-1] for n, ids in sorted(space.branches.items())}
    branches = [{"name": n, "ref": f"refs/heads/{n}", "targetCommit": c} for n, c in heads.items()]
    tags = [
        {"name": n, "ref": f"refs/tags/{n}", "targetCommit": c}
        for n, c in sorted(space.tags.items())
    ]
    data: dict[str, Any] = {"branches": branches, "converts": [], "tags": tags}
    if pull_requests:
        data["pullRequests"] = []
    return data


def whoami_json(
    user: User, token: Token, who: Principal, orgs: list[Org], base_url: str
) -> dict[str, Any]:
    """`whoami-v2`: the caller, its orgs and the token it used."""
    return {
        "type": "user",
        "id": user.object_id,
        "name": user.name,
        "fullname": user.name,
        "email": f"{user.name}@sandbox.invalid",
        "emailVerified": True,
        "isPro": False,
        "canPay": False,
        "avatarUrl": f"{base_url}/avatars/{user.name}.svg",
        "periodEnd": None,
        "orgs": [
            {
                "type": "org",
                "id": org.object_id,
                "name": org.name,
                "fullname": org.name,
                "email": None,
                "canPay": False,
                "avatarUrl": f"{base_url}/avatars/{org.name}.svg",
                "periodEnd": None,
                "roleInOrg": "admin",
            }
            for org in orgs
        ],
        "auth": {
            "type": "access_token",
            "accessToken": {
                "displayName": "sandbox",
                "role": who.role,
                "createdAt": hub_timestamp(token.created_at),
            },
        },
    }
