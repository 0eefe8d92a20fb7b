"""Checks that the sandbox answers like the Hub where huggingface_hub's own tests look (issue 10),
each through the real client. Run as `python fidelity_scenarios.py` with the environment of
`SandboxProcess.env()`; prints one JSON line per check, like client_scenarios.py (whose
helpers it uses), and exits 1 if any failed.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.error
import urllib.request

import client_scenarios as base
from client_scenarios import ENDPOINT, api, control, expect, tree
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, hf_hub_download
from huggingface_hub._space_api import SpaceHardware
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

base.CHECKS.clear()  # only the checks below
check = base.check
DEMO = "alice/fidelity"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # answer the 3xx itself


def raw(path: str) -> tuple[int, dict[str, str]]:
    """A plain GET with alice's token that follows no redirect: status, headers (lowercased)."""
    request = urllib.request.Request(
        ENDPOINT + path, headers={"Authorization": f"Bearer {os.environ['HF_TOKEN']}"}
    )
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}


def add(path: str, data: bytes) -> CommitOperationAdd:
    return CommitOperationAdd(path_in_repo=path, path_or_fileobj=data)


@check
def deleted_file_on_a_folder_deletes_the_folder() -> None:
    api.create_repo(DEMO, repo_type="space", space_sdk="static")
    ops = [add("a/b.txt", b"b"), add("a/c/d.txt", b"d"), add("keep/e.txt", b"e")]
    api.create_commit(DEMO, ops, commit_message="folders", repo_type="space")
    # No trailing slash: the client sends `deletedFile` for the folder `a`.
    delete = CommitOperationDelete(path_in_repo="a")
    assert delete.is_folder is False
    api.create_commit(DEMO, [delete], commit_message="rm a", repo_type="space")
    paths = set(tree(DEMO))
    assert not [p for p in paths if p == "a" or p.startswith("a/")], paths
    assert "keep/e.txt" in paths
    # With a trailing slash the client sends `deletedFolder`.
    folder = CommitOperationDelete(path_in_repo="keep/")
    api.create_commit(DEMO, [folder], commit_message="rm keep", repo_type="space")
    assert not [p for p in tree(DEMO) if p.startswith("keep")]
    missing = CommitOperationDelete(path_in_repo="nowhere")
    expect(
        HfHubHTTPError,
        lambda: api.create_commit(DEMO, [missing], commit_message="x", repo_type="space"),
        404,
    )


@check
def paths_the_hub_refuses_get_422() -> None:
    for bad in ("..\\ddd", ".\\ddd", "a//b.txt"):
        expect(
            HfHubHTTPError,
            lambda bad=bad: api.upload_file(  # type: ignore[misc]
                path_or_fileobj=b"content", path_in_repo=bad, repo_id=DEMO, repo_type="space"
            ),
            422,
        )
    assert not [p for p in tree(DEMO) if "ddd" in p]
    # A backslash inside a path is a character (upstream's download tests store this one).
    odd = "folder/..\\..\\..\\file"
    api.upload_file(path_or_fileobj=b"x", path_in_repo=odd, repo_id=DEMO, repo_type="space")
    assert odd in tree(DEMO)


@check
def the_old_name_redirects_after_move_repo() -> None:
    api.create_repo("alice/before", repo_type="space", space_sdk="static")
    api.upload_file(
        path_or_fileobj=b"moved", path_in_repo="f.txt", repo_id="alice/before", repo_type="space"
    )
    api.move_repo("alice/before", "alice/after", repo_type="space")
    assert api.space_info("alice/before").id == "alice/after"
    assert "f.txt" in api.list_repo_files("alice/before", repo_type="space")
    path = hf_hub_download("alice/before", "f.txt", repo_type="space")
    with open(path, "rb") as handle:
        assert handle.read() == b"moved"
    # The Hub's kind of redirect: relative, same route and query under the new name.
    status, headers = raw("/api/spaces/alice/before/tree/main?recursive=true")
    assert status == 307, status
    assert headers["location"] == "/api/spaces/alice/after/tree/main?recursive=true", headers
    # A new Space under the old name ends the redirect.
    api.create_repo("alice/before", repo_type="space", space_sdk="static")
    assert api.space_info("alice/before").id == "alice/before"
    assert "f.txt" not in api.list_repo_files("alice/before", repo_type="space")


@check
def unknown_expand_values_are_refused() -> None:
    for bad in (["host"], ["foo"], ["sdk", "hosts"]):
        expect(HfHubHTTPError, lambda bad=bad: api.space_info(DEMO, expand=bad), 400)  # type: ignore[misc]
        expect(HfHubHTTPError, lambda bad=bad: list(api.list_spaces(expand=bad)), 400)  # type: ignore[misc]
    info = api.space_info(DEMO, expand=["sdk", "region", "usedStorage"])
    assert info.sdk == "static" and info.region == "us", info


@check
def list_spaces_filters_by_the_cards_models_and_datasets() -> None:
    cards = {
        "alice/uses-gpt2": "models:\n- openai/gpt2\ndatasets: squad\n",
        "alice/uses-bert": "models: [google/bert]\n",
        "alice/uses-none": "",
    }
    for repo_id, extra in cards.items():
        api.create_repo(repo_id, repo_type="space", space_sdk="static")
        readme = f"---\nsdk: static\n{extra}---\n# demo\n".encode()
        api.upload_file(
            path_or_fileobj=readme, path_in_repo="README.md", repo_id=repo_id, repo_type="space"
        )
    info = api.space_info("alice/uses-gpt2")
    assert info.models == ["openai/gpt2"] and info.datasets == ["squad"], (info.models, info)
    assert api.space_info("alice/uses-none").models == []

    def ids(**kwargs: object) -> set[str]:
        return {s.id for s in api.list_spaces(author="alice", **kwargs)}  # type: ignore[arg-type]

    assert ids(models="openai/gpt2") == {"alice/uses-gpt2"}
    assert ids(models=["google/bert"]) == {"alice/uses-bert"}
    assert ids(datasets="squad") == {"alice/uses-gpt2"}
    assert ids(models="openai/gpt2", datasets="other") == set()
    assert ids(linked=True) == {"alice/uses-gpt2", "alice/uses-bert"}
    listed = {s.id: s for s in api.list_spaces(author="alice", expand=["models", "datasets"])}
    assert listed["alice/uses-bert"].models == ["google/bert"], listed["alice/uses-bert"]


@check
def unrouted_repo_paths_name_the_missing_repo() -> None:
    # list_repo_likers uses a route the sandbox lacks: for a missing Space the Hub's
    # RepoNotFound still reaches the client.
    expect(
        RepositoryNotFoundError,
        lambda: list(api.list_repo_likers("alice/no-such-space", repo_type="space")),
        404,
    )
    status, headers = raw("/api/models/alice/anything/likers")
    assert status == 404 and headers.get("x-error-code") == "RepoNotFound", headers
    # An existing Space: the route is what is missing, not the repository.
    status, headers = raw(f"/api/spaces/{DEMO}/not-a-route")
    assert status == 404 and "x-error-code" not in headers, headers


@check
def refs_with_pull_requests_and_formatted_commits() -> None:
    refs = api.list_repo_refs(DEMO, repo_type="space", include_pull_requests=True)
    assert refs.pull_requests == [], refs
    assert [b.name for b in refs.branches] == ["main"]
    assert api.list_repo_refs(DEMO, repo_type="space").pull_requests is None
    api.create_commit(
        DEMO,
        [add("x.txt", b"x")],
        commit_message="Fix <b> & co",
        commit_description="Line <one>",
        repo_type="space",
    )
    plain = api.list_repo_commits(DEMO, repo_type="space")
    assert all(c.formatted_title is None and c.formatted_message is None for c in plain)
    formatted = api.list_repo_commits(DEMO, repo_type="space", formatted=True)
    assert all(c.formatted_title is not None and c.formatted_message is not None for c in formatted)
    assert formatted[0].formatted_title == "Fix &lt;b&gt; &amp; co", formatted[0]
    assert "Line &lt;one&gt;" in (formatted[0].formatted_message or "")


@check
def hardware_is_the_clients_flavour_list() -> None:
    status, _ = raw("/api/spaces/hardware")
    assert status == 200
    with urllib.request.urlopen(ENDPOINT + "/api/spaces/hardware", timeout=10) as response:
        listed = json.loads(response.read())
    names = [f["name"] for f in listed]
    assert names == [h.value for h in SpaceHardware], names
    assert {"rtx-pro-6000", "rtx-pro-6000x2", "rtx-pro-6000x4", "rtx-pro-6000x8"} <= set(names)
    by_name = {f["name"]: f for f in listed}
    assert by_name["rtx-pro-6000x4"]["accelerator"]["quantity"] == "4"
    api.create_repo("alice/gpu", repo_type="space", space_sdk="docker")
    runtime = api.request_space_hardware("alice/gpu", "rtx-pro-6000x8")
    assert runtime.requested_hardware == "rtx-pro-6000x8", runtime
    expect(HfHubHTTPError, lambda: api.request_space_hardware("alice/gpu", "h100x9"), 400)


@check
def region_reads_back_as_created() -> None:
    api.create_repo("alice/in-eu", repo_type="space", space_sdk="static", region="eu")
    info = api.space_info("alice/in-eu", expand=["region", "tags"])
    assert info.region == "eu" and "region:eu" in (info.tags or []), info
    api.create_repo("alice/in-us", repo_type="space", space_sdk="static")
    assert api.space_info("alice/in-us", expand=["region"]).region == "us"
    expect(
        HfHubHTTPError,
        lambda: api.create_repo("alice/moon", repo_type="space", space_sdk="static", region="moon"),
        400,
    )


@check
def create_from_a_space_template() -> None:
    templates = api.list_space_templates()
    assert templates and all(t.sdk and t.repo_id and t.name for t in templates), templates
    url = api.create_repo("alice/from-template", repo_type="space", space_template="Streamlit")
    info = api.space_info(url.repo_id)
    assert info.sdk == "docker" and info.private is False, info
    assert "Dockerfile" in tree(url.repo_id)
    # A template the Hub recommends private makes the Space private unless told otherwise.
    preferred = next(t for t in templates if t.preferred_private)
    made = api.create_repo("alice/lab", repo_type="space", space_template=preferred.repo_id)
    assert api.space_info(made.repo_id).private is True


@check
def overlapping_creates_by_one_user_get_409_and_the_client_retries() -> None:
    control("PUT", "config", {"create_seconds": 0.4})
    control("DELETE", "requests", None)
    errors: list[BaseException] = []

    def create(n: int) -> None:
        try:
            api.create_repo(f"alice/parallel-{n}", repo_type="space", space_sdk="static")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    control("PUT", "config", {"create_seconds": 0.05})
    assert not errors, errors
    assert {f"alice/parallel-{n}" for n in range(3)} <= {s.id for s in api.list_spaces()}
    with urllib.request.urlopen(ENDPOINT + "/_sandbox/requests", timeout=10) as response:
        log = json.loads(response.read())
    creates = [e["status"] for e in log if e["path"] == "/api/repos/create"]
    assert creates.count(200) == 3 and 409 in creates, creates


@check
def branches_and_tags() -> None:
    repo = "alice/refs"
    api.create_repo(repo, repo_type="space", space_sdk="static")
    first = api.space_info(repo).sha
    api.create_branch(repo, branch="dev", repo_type="space")
    api.create_branch(repo, branch="dev", repo_type="space", exist_ok=True)
    expect(HfHubHTTPError, lambda: api.create_branch(repo, branch="dev", repo_type="space"), 409)
    api.upload_file(
        path_or_fileobj=b"on dev",
        path_in_repo="dev.txt",
        repo_id=repo,
        repo_type="space",
        revision="dev",
    )
    assert "dev.txt" not in api.list_repo_files(repo, repo_type="space")
    assert "dev.txt" in api.list_repo_files(repo, repo_type="space", revision="dev")
    assert "dev.txt" in tree(repo, revision="refs/heads/dev")
    with open(hf_hub_download(repo, "dev.txt", repo_type="space", revision="dev"), "rb") as f:
        assert f.read() == b"on dev"
    dev_commits = api.list_repo_commits(repo, repo_type="space", revision="dev")
    assert dev_commits[0].title == "Upload dev.txt with huggingface_hub", dev_commits
    assert (
        dev_commits[-1].commit_id == first
        and len(api.list_repo_commits(repo, repo_type="space")) == 1
    )
    dev_head = dev_commits[0].commit_id
    assert api.space_info(repo, revision="dev").sha == dev_head
    # A branch from a starting point, a tag, and the refs listing.
    api.create_branch(repo, branch="old", revision=first, repo_type="space")
    api.create_tag(repo, tag="v1", revision="dev", repo_type="space", tag_message="one")
    expect(HfHubHTTPError, lambda: api.create_tag(repo, tag="v1", repo_type="space"), 409)
    refs = api.list_repo_refs(repo, repo_type="space")
    assert {b.name: b.target_commit for b in refs.branches} == {
        "main": first,
        "dev": dev_head,
        "old": first,
    }, refs
    assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [
        ("v1", "refs/tags/v1", dev_head)
    ]
    assert "dev.txt" in api.list_repo_files(repo, repo_type="space", revision="v1")
    # A stale parent on the branch is the same 412; a tag cannot be committed to.
    stale = {"revision": "dev", "parent_commit": first, "repo_type": "space"}
    late = {"path_or_fileobj": b"x", "path_in_repo": "x", "repo_id": repo}
    exc = expect(HfHubHTTPError, lambda: api.upload_file(**late, **stale), 412)  # type: ignore[arg-type]
    assert "The branch was updated" in str(exc)
    expect(
        HfHubHTTPError,
        lambda: api.create_commit(
            repo, [add("x", b"x")], commit_message="x", repo_type="space", revision="v1"
        ),
        400,
    )
    api.delete_tag(repo, tag="v1", repo_type="space")
    api.delete_branch(repo, branch="dev", repo_type="space")
    expect(HfHubHTTPError, lambda: api.delete_branch(repo, branch="dev", repo_type="space"), 404)
    expect(HfHubHTTPError, lambda: api.delete_branch(repo, branch="main", repo_type="space"), 403)
    refs = api.list_repo_refs(repo, repo_type="space")
    assert [b.name for b in refs.branches] == ["main", "old"] and refs.tags == [], refs
    expect(
        HfHubHTTPError, lambda: api.list_repo_files(repo, repo_type="space", revision="dev"), 404
    )


if __name__ == "__main__":
    sys.exit(base.run_checks())
