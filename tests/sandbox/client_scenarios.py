"""Scenarios that drive the real huggingface_hub client against a running sandbox.

Run as `python client_scenarios.py SCENARIO` with the environment of `SandboxProcess.env()`
(huggingface_hub reads HF_ENDPOINT at import, so this must be its own process). Extra tokens
come in SANDBOX_BOB_TOKEN (another write user) and SANDBOX_READ_TOKEN (alice, read-only).
Every check prints one JSON line `{"check", "ok", "error"}`; a failed check does not stop the
ones after it unless they depend on it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    Volume,
    hf_hub_download,
)
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
)

ENDPOINT = os.environ["HF_ENDPOINT"]
XET = not os.environ.get("HF_HUB_DISABLE_XET")
api = HfApi()
warnings.simplefilter("ignore")

CHECKS: list[tuple[str, Callable[[], None]]] = []


def check(fn: Callable[[], None]) -> Callable[[], None]:
    CHECKS.append((fn.__name__, fn))
    return fn


def app_get(url: str) -> tuple[int, Any]:
    """A GET of a simulated app: its status and JSON body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def control(method: str, name: str, body: Any) -> Any:
    request = urllib.request.Request(
        f"{ENDPOINT}/_sandbox/{name}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def expect(
    error: type[Exception], fn: Callable[[], object], status: int | None = None
) -> Exception:
    try:
        fn()
    except error as exc:
        if status is not None:
            got = getattr(getattr(exc, "response", None), "status_code", None)
            assert got == status, f"expected HTTP {status}, got {got}: {exc}"
        return exc
    raise AssertionError(f"expected {error.__name__}")


def wait_stage(repo_id: str, *, timeout: float = 15) -> str:
    stage = api.wait_for_space(repo_id, timeout=timeout, poll_interval=0.2).stage
    return str(stage)


def tree(repo_id: str, **kwargs: Any) -> dict[str, Any]:
    return {
        entry.path: entry
        for entry in api.list_repo_tree(repo_id, repo_type="space", recursive=True, **kwargs)
    }


# -- full: every HfApi method spacectl uses ------------------------------------------------------

GR = "alice/gr-demo"
DOCKER = "alice/docker-full"


@check
def whoami_and_auth() -> None:
    me = api.whoami()
    assert me["name"] == "alice" and me["type"] == "user", me
    assert [o["name"] for o in me["orgs"]] == ["acme"], me
    assert me["auth"]["accessToken"]["role"] == "write"
    bad = HfApi(token="hf_not_a_known_token")
    exc = expect(HfHubHTTPError, bad.whoami)
    assert "Invalid user token" in str(exc), exc


@check
def create_with_every_option() -> None:
    control("PUT", "config", {"page_size": {"spaces": 2, "tree": 3, "tree_expand": 2}})
    url = api.create_repo(
        DOCKER,
        repo_type="space",
        space_sdk="docker",
        visibility="protected",
        space_hardware="t4-small",
        space_sleep_time=3600,
        space_secrets=[{"key": "API_KEY", "value": "s3cret", "description": "the key"}],
        space_variables=[{"key": "MODE", "value": "prod"}],
        space_volumes=[Volume(type="model", source="gpt2", mount_path="/models")],
    )
    assert url.repo_id == DOCKER and url.endpoint == ENDPOINT, url
    info = api.space_info(DOCKER)
    assert info.private is True and getattr(info, "visibility", None) == "protected"
    runtime = info.runtime
    assert runtime is not None
    assert runtime.requested_hardware == "t4-small" and runtime.sleep_time == 3600
    assert runtime.stage == "NO_APP_FILE", runtime.stage  # a Docker Space without Dockerfile
    assert runtime.volumes and runtime.volumes[0].source == "gpt2", runtime.volumes
    assert runtime.volumes[0].read_only is True  # repo volumes are always read-only
    assert list(api.get_space_secrets(DOCKER)) == ["API_KEY"]
    assert api.get_space_secrets(DOCKER)["API_KEY"].description == "the key"
    assert api.get_space_variables(DOCKER)["MODE"].value == "prod"
    again = api.create_repo(DOCKER, repo_type="space", space_sdk="docker", exist_ok=True)
    assert again.repo_id == DOCKER
    expect(
        HfHubHTTPError, lambda: api.create_repo(DOCKER, repo_type="space", space_sdk="docker"), 409
    )


@check
def initial_commit_like_the_hub() -> None:
    api.create_repo(GR, repo_type="space", space_sdk="gradio")
    files = tree(GR)
    assert sorted(files) == [".gitattributes", "README.md"], sorted(files)
    readme = Path(hf_hub_download(GR, "README.md", repo_type="space")).read_text()
    assert readme.startswith("---\ntitle: gr-demo\n"), readme
    assert "sdk: gradio" in readme and "spaces-config-reference" in readme
    attributes = Path(hf_hub_download(GR, ".gitattributes", repo_type="space")).read_text()
    assert "*.safetensors filter=lfs diff=lfs merge=lfs -text" in attributes
    info = api.space_info(GR)
    assert info.card_data is not None and info.card_data.sdk == "gradio"
    assert info.runtime is not None and info.runtime.stage == "NO_APP_FILE"
    # `host` is where the app runs: the sandbox's simulated app (the Hub's is *.hf.space).
    assert info.subdomain == "alice-gr-demo" and info.host == f"{ENDPOINT}/sandbox-app/{GR}"
    assert info.sha and len(info.sha) == 40


@check
def commit_builds_then_runs() -> None:
    api.upload_file(
        path_or_fileobj=b"import gradio as gr\n",
        path_in_repo="app.py",
        repo_id=GR,
        repo_type="space",
    )
    assert api.get_space_runtime(GR).stage in ("BUILDING", "APP_STARTING")
    runtime = api.wait_for_space(GR, timeout=15, poll_interval=0.2)
    assert runtime.stage == "RUNNING", runtime
    assert runtime.hardware == "cpu-basic" and runtime.requested_hardware == "cpu-basic"
    assert runtime.raw["domains"] == [{"domain": "alice-gr-demo.hf.space", "stage": "READY"}]
    # The simulated app at `host`: 200 while RUNNING, else what SANDBOX_APP_STATUS says.
    host = api.space_info(GR).host
    assert app_get(f"{host}/health?x=1") == (200, {"space": GR, "path": "/health"})
    api.add_space_variable(GR, "SANDBOX_APP_STATUS", "503")
    assert app_get(f"{host}/")[0] == 503  # building again (a variable restarts), then failing
    api.wait_for_space(GR, timeout=15, poll_interval=0.2)
    assert app_get(f"{host}/")[0] == 503
    api.delete_space_variable(GR, "SANDBOX_APP_STATUS")
    api.wait_for_space(GR, timeout=15, poll_interval=0.2)
    assert app_get(host)[0] == 200
    build = "".join(api.fetch_space_logs(GR, build=True))
    assert "Build Queued" in build, build
    run = "".join(api.fetch_space_logs(GR))
    assert "Running on local URL" in run, run


@check
def space_info_expand() -> None:
    info = api.space_info(
        GR, expand=["sdk", "runtime", "xetEnabled", "cardData", "sha", "siblings"]
    )
    assert info.sdk == "gradio" and info.sha and info.card_data is not None
    assert info.runtime is not None and info.runtime.stage == "RUNNING"
    assert getattr(info, "xetEnabled", None) is False
    assert {s.rfilename for s in info.siblings or []} == {".gitattributes", "README.md", "app.py"}
    assert info.likes is None and info.created_at is None  # only the expanded keys come back
    sha_only = api.space_info(GR, expand=["sha"])
    assert sha_only.sha == info.sha and sha_only.runtime is None
    blobs = api.space_info(GR, files_metadata=True)
    app = next(s for s in blobs.siblings or [] if s.rfilename == "app.py")
    assert app.size == len(b"import gradio as gr\n") and app.blob_id


@check
def list_spaces_filters_and_pages() -> None:
    for name in ("list-a", "list-b", "other-c"):
        api.create_repo(f"alice/{name}", repo_type="space", space_sdk="static")
    api.create_repo("acme/org-space", repo_type="space", space_sdk="static", private=True)
    mine = [s.id for s in api.list_spaces(author="alice")]
    assert len(mine) == len(set(mine)) >= 5, mine  # pages of 2: the Link header was followed
    assert "acme/org-space" not in mine
    found = sorted(s.id for s in api.list_spaces(search="list-"))
    assert found == ["alice/list-a", "alice/list-b"], found
    expanded = next(iter(api.list_spaces(search="gr-demo", expand=["runtime", "sdk"])))
    assert expanded.runtime is not None and expanded.sdk == "gradio"
    full = next(iter(api.list_spaces(search="gr-demo", full=True)))
    assert full.sha and full.siblings, full
    assert len(list(api.list_spaces(author="alice", limit=3))) == 3
    bob = HfApi(token=os.environ["SANDBOX_BOB_TOKEN"])
    assert not [s for s in bob.list_spaces(author="acme")]  # private to acme's members


@check
def hardware_sleep_and_catalogue() -> None:
    names = {h.name for h in api.list_spaces_hardware()}
    assert {"cpu-basic", "cpu-upgrade", "t4-small", "t4-medium", "l4x1", "a10g-small"} <= names
    assert {"a10g-large", "a100-large", "zero-a10g"} <= names
    runtime = api.request_space_hardware(GR, "cpu-upgrade", sleep_time=600)
    assert runtime.requested_hardware == "cpu-upgrade" and runtime.sleep_time == 600
    assert runtime.stage == "BUILDING" and runtime.hardware is None, runtime
    assert api.set_space_sleep_time(GR, 7200).sleep_time == 7200
    assert wait_stage(GR) == "RUNNING"
    assert api.get_space_runtime(GR).hardware == "cpu-upgrade"
    expect(BadRequestError, lambda: api.request_space_hardware(GR, "gpu-of-dreams"))
    back = api.request_space_hardware(GR, "cpu-basic")
    assert back.sleep_time == 172800  # free hardware: fixed 48 h
    assert wait_stage(GR) == "RUNNING"


@check
def secrets_write_only() -> None:
    api.add_space_secret(GR, "TOKEN", "v1", description="first")
    first = api.get_space_secrets(GR)["TOKEN"]
    assert first.description == "first" and first.updated_at is not None
    assert api.get_space_runtime(GR).stage == "BUILDING"  # a secret change restarts the Space
    time.sleep(0.01)
    api.add_space_secret(GR, "TOKEN", "v2")
    second = api.get_space_secrets(GR)["TOKEN"]
    assert second.updated_at is not None and second.updated_at > first.updated_at
    assert not hasattr(second, "value")
    api.delete_space_secret(GR, "TOKEN")
    api.delete_space_secret(GR, "NEVER_SET")  # the Hub answers 200 for a missing key
    assert api.get_space_secrets(GR) == {}


@check
def variables_full_map() -> None:
    api.add_space_variable(GR, "A", "1")
    api.add_space_variable(GR, "B", "2", description="bee")
    variables = api.get_space_variables(GR)
    assert {k: v.value for k, v in variables.items()} == {"A": "1", "B": "2"}
    assert variables["B"].description == "bee" and variables["A"].description is None
    api.delete_space_variable(GR, "A")
    api.delete_space_variable(GR, "MISSING")
    assert list(api.get_space_variables(GR)) == ["B"]
    assert wait_stage(GR) == "RUNNING"


@check
def pause_restart_dev_mode() -> None:
    assert api.pause_space(GR).stage == "PAUSED"
    assert api.get_space_runtime(GR).stage == "PAUSED"
    api.add_space_variable(GR, "WHILE_PAUSED", "x")
    assert api.get_space_runtime(GR).stage == "PAUSED"  # settings do not wake a paused Space
    assert api.restart_space(GR, factory_reboot=True).stage == "BUILDING"
    assert "Factory rebuild" in "".join(api.fetch_space_logs(GR, build=True))
    assert wait_stage(GR) == "RUNNING"
    assert api.enable_space_dev_mode(GR).dev_mode is True
    assert api.disable_space_dev_mode(GR).dev_mode is False


@check
def volumes_replace_and_delete() -> None:
    api.set_space_volumes(
        GR,
        [
            Volume(type="bucket", source="alice/data", mount_path="/data"),
            Volume(type="dataset", source="org/ds", mount_path="/ds", read_only=False),
        ],
    )
    volumes = api.get_space_runtime(GR).volumes or []
    assert [(v.source, v.read_only) for v in volumes] == [("alice/data", False), ("org/ds", True)]
    api.set_space_volumes(GR, [Volume(type="model", source="gpt2", mount_path="/m")])
    assert [v.source for v in api.get_space_runtime(GR).volumes or []] == ["gpt2"]
    api.delete_space_volumes(GR)
    assert api.get_space_runtime(GR).volumes is None
    expect(BadRequestError, lambda: api.delete_space_volumes(GR))
    expect(
        BadRequestError,
        lambda: api.set_space_volumes(
            "alice/list-a", [Volume(type="model", source="x", mount_path="/x")]
        ),
    )
    expect(BadRequestError, lambda: api.pause_space("alice/list-a"))


@check
def runtime_outcomes() -> None:
    static = api.get_space_runtime("alice/list-a")
    assert static.stage == "RUNNING" and static.requested_hardware is None
    assert "gcTimeout" not in static.raw and "domains" not in static.raw
    api.upload_file(
        path_or_fileobj=b"# no base image\nRUN echo hi\n",
        path_in_repo="Dockerfile",
        repo_id=DOCKER,
        repo_type="space",
    )
    failed = api.wait_for_space(DOCKER, timeout=15, poll_interval=0.2)
    assert failed.stage == "BUILD_ERROR", failed
    assert "FROM" in failed.raw.get("errorMessage", ""), failed.raw
    assert "FROM" in "".join(api.fetch_space_logs(DOCKER, build=True))
    api.upload_file(
        path_or_fileobj=b"FROM python:3.11\nCMD python -m http.server 7860\n",
        path_in_repo="Dockerfile",
        repo_id=DOCKER,
        repo_type="space",
    )
    assert wait_stage(DOCKER) == "RUNNING"
    assert api.get_space_runtime(DOCKER).hardware == "t4-small"


@check
def create_commit_operations() -> None:
    binary = bytes(range(256)) * 8
    ops = [
        CommitOperationAdd("src/pkg/a.py", b"a = 1\n"),
        CommitOperationAdd("src/pkg/b.py", b"b = 2\n"),
        CommitOperationAdd("src/top.py", b"top\n"),
        CommitOperationAdd("assets/logo.bin", binary),
        CommitOperationAdd("notes.txt", b"notes\n"),
    ]
    first = api.create_commit(GR, ops, commit_message="add files", repo_type="space")
    files = tree(GR)
    assert {"src/pkg/a.py", "src/top.py", "assets/logo.bin", "src", "src/pkg"} <= set(files)
    logo = files["assets/logo.bin"]
    assert logo.lfs is not None and logo.lfs.size == len(binary), logo
    assert logo.lfs.sha256 == __import__("hashlib").sha256(binary).hexdigest()
    assert logo.lfs.pointer_size > 100 and logo.blob_id != logo.lfs.sha256
    # Uploaded through Xet, the file lists its Xet hash as on the Hub; through LFS it has none.
    assert (logo.xet_hash is not None) == XET, logo
    downloaded = Path(hf_hub_download(GR, "assets/logo.bin", repo_type="space")).read_bytes()
    assert downloaded == binary
    second = api.create_commit(
        GR,
        [CommitOperationDelete("notes.txt"), CommitOperationDelete("src/pkg/")],
        commit_message="delete",
        repo_type="space",
        parent_commit=first.oid,
    )
    files = tree(GR)
    assert "notes.txt" not in files and "src/pkg/a.py" not in files and "src/top.py" in files
    exc = expect(
        HfHubHTTPError,
        lambda: api.create_commit(
            GR,
            [CommitOperationAdd("late.txt", b"late\n")],
            commit_message="stale",
            repo_type="space",
            parent_commit=first.oid,
        ),
        412,
    )
    text = "The branch was updated since you opened this page. Please refresh and try again."
    assert text in str(exc), exc  # the Hub's current text (huggingface_hub's tests assert it)
    expect(
        EntryNotFoundError,
        lambda: api.create_commit(
            GR, [CommitOperationDelete("ghost.txt")], commit_message="x", repo_type="space"
        ),
    )
    assert api.space_info(GR).sha == second.oid


@check
def tree_paths_info_and_pages() -> None:
    api.create_commit(
        GR,
        [CommitOperationAdd(f"many/f{i}.txt", f"{i}\n".encode()) for i in range(7)],
        commit_message="many",
        repo_type="space",
    )
    top = list(api.list_repo_tree(GR, "many", repo_type="space"))  # pages of 3
    assert [e.path for e in top] == [f"many/f{i}.txt" for i in range(7)], top
    nested = list(api.list_repo_tree(GR, "src", repo_type="space", expand=True))
    assert [e.path for e in nested] == ["src/top.py"], nested
    assert nested[0].last_commit is not None and nested[0].last_commit.title == "add files"
    expect(EntryNotFoundError, lambda: list(api.list_repo_tree(GR, "nowhere", repo_type="space")))
    infos = api.get_paths_info(GR, ["app.py", "many", "missing.txt"], repo_type="space")
    assert [(type(i).__name__, i.path) for i in infos] == [
        ("RepoFile", "app.py"),
        ("RepoFolder", "many"),
    ]
    files = api.list_repo_files(GR, repo_type="space")
    assert "many/f6.txt" in files and "many" not in files


@check
def upload_folder_sync() -> None:
    folder = Path(tempfile.mkdtemp())
    (folder / "index.html").write_text("<h1>v1</h1>\n")
    (folder / "keep.txt").write_text("keep\n")
    (folder / "img").mkdir()
    (folder / "img" / "pic.bin").write_bytes(b"\x00\x01binary" * 100)
    repo = "alice/site"
    api.create_repo(repo, repo_type="space", space_sdk="static")
    api.upload_folder(repo_id=repo, folder_path=folder, repo_type="space", delete_patterns="*")
    files = tree(repo)
    assert {"index.html", "keep.txt", "img/pic.bin", ".gitattributes"} <= set(files)
    assert "style.css" not in files and "README.md" not in files  # mirrored, README too
    (folder / "index.html").write_text("<h1>v2</h1>\n")
    (folder / "keep.txt").unlink()
    api.upload_folder(repo_id=repo, folder_path=folder, repo_type="space", delete_patterns="*")
    assert "keep.txt" not in tree(repo)
    sha = api.space_info(repo).sha
    api.upload_folder(repo_id=repo, folder_path=folder, repo_type="space", delete_patterns="*")
    assert api.space_info(repo).sha == sha  # nothing changed: no commit


@check
def visibility_and_permissions() -> None:
    bob = HfApi(token=os.environ["SANDBOX_BOB_TOKEN"])
    reader = HfApi(token=os.environ["SANDBOX_READ_TOKEN"])
    api.update_repo_settings(GR, private=True, repo_type="space")
    assert api.space_info(GR).private is True
    expect(RepositoryNotFoundError, lambda: bob.space_info(GR))
    expect(RepositoryNotFoundError, lambda: bob.get_space_runtime(GR))
    assert GR not in [s.id for s in bob.list_spaces(author="alice")]
    assert reader.space_info(GR).id == GR
    reader.auth_check(GR, repo_type="space")
    expect(HfHubHTTPError, lambda: reader.auth_check(GR, repo_type="space", write=True), 403)
    expect(HfHubHTTPError, lambda: reader.add_space_secret(GR, "X", "y"), 403)
    expect(
        HfHubHTTPError,
        lambda: reader.create_repo("alice/nope", repo_type="space", space_sdk="static"),
        403,
    )
    expect(
        HfHubHTTPError,
        lambda: bob.create_repo("alice/nope", repo_type="space", space_sdk="static"),
        403,
    )
    api.auth_check(GR, repo_type="space", write=True)
    bad = HfApi(token="hf_not_a_known_token")
    expect(HfHubHTTPError, lambda: bad.space_info("alice/list-a"), 401)
    api.update_repo_settings(GR, visibility="public", repo_type="space")
    assert bob.space_info(GR).private is False
    # protected: the app and its metadata are public, the files are not
    assert bob.space_info(DOCKER).private is True
    expect(RepositoryNotFoundError, lambda: list(bob.list_repo_tree(DOCKER, repo_type="space")))


@check
def move_duplicate_delete() -> None:
    api.move_repo("alice/other-c", "alice/moved-c", repo_type="space")
    assert api.space_info("alice/moved-c").id == "alice/moved-c"
    assert api.space_info("alice/other-c").id == "alice/moved-c"  # the old name redirects
    api.add_space_variable(GR, "COPIED", "yes")
    copy = api.duplicate_repo(
        GR, "acme/gr-copy", repo_type="space", private=True, space_hardware="cpu-upgrade"
    )
    assert copy.repo_id == "acme/gr-copy" and copy.files_copy_pending is False
    info = api.space_info("acme/gr-copy")
    assert info.private and "app.py" in {s.rfilename for s in info.siblings or []}
    assert info.runtime is not None and info.runtime.requested_hardware == "cpu-upgrade"
    assert api.get_space_variables("acme/gr-copy")["COPIED"].value == "yes"
    assert api.get_space_secrets("acme/gr-copy") == {}
    again = api.duplicate_repo(GR, "acme/gr-copy", repo_type="space", exist_ok=True)
    assert again.repo_id == "acme/gr-copy"
    api.delete_repo("acme/gr-copy", repo_type="space")
    api.delete_repo("acme/gr-copy", repo_type="space", missing_ok=True)
    expect(RepositoryNotFoundError, lambda: api.delete_repo("acme/gr-copy", repo_type="space"))


@check
def subdomain_rules() -> None:
    api.create_repo("alice/My_Space.v2", repo_type="space", space_sdk="static")
    info = api.space_info("alice/My_Space.v2")
    assert info.subdomain == "alice-my-space-v2"
    assert info.host == f"{ENDPOINT}/sandbox-app/alice/My_Space.v2"


# -- persistence ---------------------------------------------------------------------------------

PERSIST = "alice/persisted"
BLOB = b"\x00\x01\x02persist" * 1000


def persist_write() -> None:
    api.create_repo(PERSIST, repo_type="space", space_sdk="gradio", private=True)
    api.create_commit(
        PERSIST,
        [CommitOperationAdd("app.py", b"print(1)\n"), CommitOperationAdd("data.bin", BLOB)],
        commit_message="files",
        repo_type="space",
    )
    api.add_space_secret(PERSIST, "SECRET", "value")
    api.add_space_variable(PERSIST, "VAR", "42")
    api.request_space_hardware(PERSIST, "t4-small")
    assert wait_stage(PERSIST) == "RUNNING"
    print(json.dumps({"sha": api.space_info(PERSIST).sha}))


def persist_check() -> None:
    info = api.space_info(PERSIST)
    assert info.private and info.runtime is not None
    assert info.runtime.stage == "RUNNING" and info.runtime.requested_hardware == "t4-small"
    assert list(api.get_space_secrets(PERSIST)) == ["SECRET"]
    assert api.get_space_variables(PERSIST)["VAR"].value == "42"
    files = tree(PERSIST)
    assert files["data.bin"].lfs is not None
    assert Path(hf_hub_download(PERSIST, "data.bin", repo_type="space")).read_bytes() == BLOB
    print(json.dumps({"sha": info.sha}))


def rate_limited_listing() -> None:
    """list_spaces walks 3 pages of 1 while the sandbox allows 2 requests per second."""
    started = time.time()
    ids = [s.id for s in api.list_spaces(author="alice")]
    print(json.dumps({"ids": ids, "seconds": time.time() - started}))


def run_checks() -> int:
    failed = 0
    for name, fn in CHECKS:
        try:
            fn()
            print(json.dumps({"check": name, "ok": True}), flush=True)
        except Exception:
            failed += 1
            print(
                json.dumps({"check": name, "ok": False, "error": traceback.format_exc()}),
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    scenario = sys.argv[1]
    if scenario == "full":
        sys.exit(run_checks())
    {
        "persist_write": persist_write,
        "persist_check": persist_check,
        "rate_limited_listing": rate_limited_listing,
    }[scenario]()
