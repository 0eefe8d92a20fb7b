"""Unit tests of apply's logic against the in-memory HubPort (tests/fakehub.py): the order of
operations per Space, isolation of failures, REFUSED vs FAILED, a create without read-back,
deletions last, and a commit whose answer was lost. tests/e2e runs the same flows for real."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakehub import FakeHub, git_blob

import spacectl.apply
from spacectl.apply import apply_plan
from spacectl.errors import HubError
from spacectl.inputs import plan_inputs, read_needs, targeted
from spacectl.manifest_loader import parse_manifest
from spacectl.plan import Plan, compute_plan
from spacectl.results import Outcome

PROTECTED = {".gitattributes", "README.md"}
ENV = {"API_KEY": "secret-value-for-tests", "SPACECTL_SECRET_KEY": "k" * 32}


def _plan(hub: FakeHub, text: str, base: Path, environ: dict[str, str] = ENV) -> Plan:
    manifest = parse_manifest(text, "spaces.yaml", base_dir=base)
    inputs = plan_inputs(manifest, environ=environ, targets=None)
    needs = {s.id: read_needs(s, inputs.files.get(s.id)) for s in targeted(manifest, None)}
    return compute_plan(manifest, hub.read_live(needs), inputs)


def _apply(hub: FakeHub, plan: Plan, base: Path, **kwargs: object):
    kwargs.setdefault("environ", ENV)
    return apply_plan(plan, hub, base_dir=base, **kwargs)  # type: ignore[arg-type]


def test_operations_of_one_space_run_in_the_safe_order(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.12\n")
    hub = FakeHub()
    hub.add_space("acme/app", visibility="private", requested_hardware="cpu-basic")
    text = """
owner: acme
spaces:
  app:
    sdk: docker
    visibility: public
    hardware: t4-small
    sleep_time: 3600
    variables: {MODE: prod}
    secrets: {API_KEY: {from_env: API_KEY}}
    volumes: [{type: bucket, source: acme/data, mount_path: /data}]
    dev_mode: true
    source: ./app
"""
    plan = _plan(hub, text, tmp_path)
    result = _apply(hub, plan, tmp_path)
    assert result.ok, result
    # Settings and secrets before the code that builds; hardware and sleep time in one call.
    assert hub.writes("acme/app") == [
        "set_visibility",
        "set_variable",
        "set_secret",
        "set_volumes",
        "set_hardware",
        "set_dev_mode",
        "commit",
    ]
    assert hub.spaces["acme/app"].live.requested_hardware == "t4-small"
    assert hub.spaces["acme/app"].live.sleep_time == 3600
    assert _plan(hub, text, tmp_path).is_empty


def test_a_failing_space_does_not_stop_the_others(tmp_path: Path) -> None:
    hub = FakeHub()
    for name in ("a", "b", "c"):
        hub.add_space(f"acme/{name}")
    hub.fail[("acme/b", "set_variable")] = HubError("acme/b: the Hub answered 500", status=500)
    text = "owner: acme\nspaces:\n" + "".join(
        f"  {n}: {{sdk: docker, variables: {{A: '1', B: '2'}}}}\n" for n in "abc"
    )
    result = _apply(hub, _plan(hub, text, tmp_path), tmp_path, parallelism=1)
    outcomes = {r.space_id: r.outcome for r in result.spaces}
    assert outcomes == {
        "acme/a": Outcome.APPLIED,
        "acme/b": Outcome.FAILED,
        "acme/c": Outcome.APPLIED,
    }
    failed = next(r for r in result.spaces if r.space_id == "acme/b")
    assert failed.error == "acme/b: the Hub answered 500"
    assert failed.operations_done == []  # the first write failed, nothing after it ran
    assert hub.writes("acme/b") == ["set_variable"]
    assert hub.spaces["acme/c"].variables == {"A": "1", "B": "2"}


def test_stale_plan_is_refused_before_any_write_and_a_later_failure_is_failed(
    tmp_path: Path,
) -> None:
    hub = FakeHub()
    hub.add_space("acme/stale")
    hub.add_space("acme/broken")
    text = """
owner: acme
spaces:
  stale: {sdk: docker, visibility: private}
  broken: {sdk: docker, visibility: private, hardware: t4-small}
"""
    plan = _plan(hub, text, tmp_path)
    stale = hub.spaces["acme/stale"]
    stale.live = replace(stale.live, requested_hardware="t4-medium")  # a click in the UI
    hub.fail[("acme/broken", "set_hardware")] = HubError("acme/broken: rejected (400)", status=400)
    result = {r.space_id: r for r in _apply(hub, plan, tmp_path, check_stale=True).spaces}
    # Changed on the Hub since the plan: REFUSED, and nothing was written to it.
    assert result["acme/stale"].outcome is Outcome.REFUSED
    assert "hardware" in (result["acme/stale"].error or "")
    assert hub.writes("acme/stale") == []
    # A Hub error after a first write: FAILED, with what was done listed.
    assert result["acme/broken"].outcome is Outcome.FAILED
    assert result["acme/broken"].operations_done == ["set visibility private"]


def test_a_missing_secret_variable_fails_the_space_before_its_first_write(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.add_space("acme/app")
    text = """
owner: acme
spaces:
  app: {sdk: docker, visibility: private, secrets: {API_KEY: {from_env: API_KEY}}}
"""
    plan = _plan(hub, text, tmp_path)
    result = _apply(hub, plan, tmp_path, environ={}).spaces[0]
    assert result.outcome is Outcome.FAILED
    assert "API_KEY" in (result.error or "") and "secret-value" not in repr(result)
    assert hub.writes("acme/app") == []


def test_an_empty_secret_variable_fails_the_space_before_its_first_write(tmp_path: Path) -> None:
    """CI expands an undefined secret to "": that is never written as the value."""
    hub = FakeHub()
    hub.add_space("acme/app")
    text = "owner: acme\nspaces:\n  app: {sdk: docker, secrets: {K: {from_env: API_KEY}}}\n"
    plan = _plan(hub, text, tmp_path, environ={})
    result = _apply(hub, plan, tmp_path, environ={**ENV, "API_KEY": ""}).spaces[0]
    assert result.outcome is Outcome.FAILED
    assert "API_KEY" in (result.error or "") and "empty" in (result.error or "")
    assert hub.writes("acme/app") == []


def test_a_plan_made_without_the_value_writes_the_value_found_at_apply(tmp_path: Path) -> None:
    """A plan made where the variable was unset (a saved plan from a fork's job) planned the
    write without a digest: applied where the variable is set, it writes that value and stamps
    its digest, so the next plan with the same value is empty."""
    hub = FakeHub()
    hub.add_space("acme/app")
    text = "owner: acme\nspaces:\n  app: {sdk: docker, secrets: {K: {from_env: API_KEY}}}\n"
    plan = _plan(hub, text, tmp_path, environ={"SPACECTL_SECRET_KEY": ENV["SPACECTL_SECRET_KEY"]})
    [op] = plan.changes[0].operations
    assert op.kind == "set_secret" and op.secret.digest is None  # type: ignore[union-attr]
    result = _apply(hub, plan, tmp_path).spaces[0]
    assert result.outcome is Outcome.APPLIED
    assert hub.writes("acme/app") == ["set_secret"]
    assert _plan(hub, text, tmp_path).is_empty
    changed = _plan(hub, text, tmp_path, environ={**ENV, "API_KEY": "rotated"})
    assert [fc.reason for fc in changed.changes[0].fields] == ["value of $API_KEY changed"]


def test_a_secret_value_changed_since_the_plan_is_refused(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.add_space("acme/app")
    plan = _plan(
        hub,
        "owner: acme\nspaces:\n  app: {sdk: docker, secrets: {K: {from_env: API_KEY}}}\n",
        tmp_path,
    )
    result = _apply(hub, plan, tmp_path, environ={**ENV, "API_KEY": "rotated"}).spaces[0]
    assert result.outcome is Outcome.REFUSED
    assert hub.writes("acme/app") == []


def test_a_create_is_not_read_back_and_what_the_hub_ignored_shows_in_the_next_plan(
    tmp_path: Path,
) -> None:
    hub = FakeHub()
    hub.ignored_on_create = {"hardware", "variables"}
    text = """
owner: acme
spaces:
  new: {sdk: docker, hardware: t4-small, visibility: private, variables: {A: '1'}}
"""
    plan = _plan(hub, text, tmp_path)
    assert [op.kind for op in plan.changes[0].operations] == ["create_space"]
    result = _apply(hub, plan, tmp_path).spaces[0]
    assert result.outcome is Outcome.APPLIED
    assert hub.writes("acme/new") == ["create_space"]
    again = _plan(hub, text, tmp_path)
    assert [op.kind for op in again.changes[0].operations] == ["set_variable", "set_hardware"]
    _apply(hub, again, tmp_path)
    assert _plan(hub, text, tmp_path).is_empty


def test_created_spaces_mirror_their_source_with_one_template_listing_per_sdk(
    tmp_path: Path,
) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>mine</h1>\n")
    hub = FakeHub()
    hub.template = {"index.html": b"<h1>template</h1>\n", "style.css": b"body {}\n"}
    text = "owner: acme\ndefaults: {sdk: static, source: ./site}\nspaces: {a: {}, b: {}, c: {}}\n"
    result = _apply(hub, _plan(hub, text, tmp_path), tmp_path, parallelism=3)
    assert result.ok, result
    assert len(hub.listed) == 1  # the template of the first, not a listing per Space
    for name in "abc":
        assert set(hub.spaces[f"acme/{name}"].files) == {*PROTECTED, "index.html"}
        assert hub.writes(f"acme/{name}") == ["create_space", "commit"]
    assert _plan(hub, text, tmp_path).is_empty


def test_a_space_whose_template_differs_is_listed_and_committed_again(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>mine</h1>\n")
    hub = FakeHub()
    hub.template = {"style.css": b"body {}\n"}
    hub.template_of["acme/b"] = {}  # deleting the learnt style.css is refused there (404)
    text = "owner: acme\ndefaults: {sdk: static, source: ./site}\nspaces: {a: {}, b: {}}\n"
    result = _apply(hub, _plan(hub, text, tmp_path), tmp_path, parallelism=1)
    assert result.ok, result
    assert hub.listed == ["acme/a", "acme/b"]
    assert hub.writes("acme/a") == ["create_space", "commit"]
    assert hub.writes("acme/b") == ["create_space", "commit", "commit"]
    for name in "ab":
        assert set(hub.spaces[f"acme/{name}"].files) == {*PROTECTED, "index.html"}


def test_create_that_honours_everything_needs_no_fix(tmp_path: Path) -> None:
    hub = FakeHub()
    text = "owner: acme\nspaces:\n  new: {sdk: docker, hardware: t4-small, variables: {A: '1'}}\n"
    result = _apply(hub, _plan(hub, text, tmp_path), tmp_path).spaces[0]
    assert result.outcome is Outcome.APPLIED
    assert hub.writes("acme/new") == ["create_space"]


def test_deletions_run_after_every_other_space(tmp_path: Path) -> None:
    hub = FakeHub()
    for name in ("old-1", "keep-1", "old-2", "keep-2"):
        hub.add_space(f"acme/{name}")
    text = """
owner: acme
spaces:
  old-1: {state: absent}
  keep-1: {sdk: docker, visibility: private}
  old-2: {state: absent}
  keep-2: {sdk: docker, visibility: private}
"""
    plan = _plan(hub, text, tmp_path)
    assert [c.space_id for c in plan.changes][-2:] == ["acme/old-1", "acme/old-2"]
    _apply(hub, plan, tmp_path, parallelism=4)
    methods = [method for _, method in hub.calls]
    assert methods.index("delete_space") > max(
        i for i, m in enumerate(methods) if m == "set_visibility"
    )
    assert set(hub.spaces) == {"acme/keep-1", "acme/keep-2"}


@pytest.mark.parametrize("content", [b"text file\n", bytes(range(256)) * 8], ids=["text", "lfs"])
def test_a_commit_whose_answer_was_lost_counts_as_landed(tmp_path: Path, content: bytes) -> None:
    """The LFS case is the one that used to fail: the head's blob id of an LFS file is its
    pointer's, so a landed check must compare the content's SHA-256."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "app" / "logo.bin").write_bytes(content)
    hub = FakeHub()
    hub.add_space("acme/app")
    hub.lose_commit_answer.add("acme/app")
    text = "owner: acme\nspaces:\n  app: {sdk: docker, source: ./app}\n"
    result = _apply(hub, _plan(hub, text, tmp_path), tmp_path).spaces[0]
    assert result.outcome is Outcome.APPLIED, result.error
    assert hub.spaces["acme/app"].commits == 1
    assert result.committed == hub.spaces["acme/app"].live.sha
    stored = hub.spaces["acme/app"].files["logo.bin"]
    assert (stored.lfs_sha256 is not None) == (b"\0" in content)
    hub.lose_commit_answer.clear()
    assert _plan(hub, text, tmp_path).is_empty


def _spy_commits(hub: FakeHub) -> list[object]:
    """The `data` of every upload, as the Hub adapter receives it."""
    seen: list[object] = []
    real_commit = hub.commit

    def spy(space_id: str, **kwargs: Any) -> str:
        seen.extend(add.data for add in kwargs["additions"])
        return real_commit(space_id, **kwargs)

    hub.commit = spy  # type: ignore[method-assign]
    return seen


def test_uploads_beyond_the_memory_budget_go_from_a_checked_copy_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files are read once; while the budget allows they are held in memory, beyond it apply
    uploads a private copy made while hashing. The copies are removed when the Space is done."""
    monkeypatch.setattr(spacectl.apply, "MEMORY_BUDGET", 20 * 1024)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.12\n")
    weights = {f"w{i}.bin": bytes([i]) * (16 * 1024) for i in range(3)}
    for name, data in weights.items():
        (tmp_path / "app" / name).write_bytes(data)
    hub = FakeHub()
    hub.add_space("acme/app")
    text = "owner: acme\nspaces:\n  app: {sdk: docker, source: ./app}\n"
    seen = _spy_commits(hub)
    assert _apply(hub, _plan(hub, text, tmp_path), tmp_path).ok
    in_memory = [d for d in seen if isinstance(d, bytes)]
    spilled = [d for d in seen if isinstance(d, Path)]
    # 16 KiB + the Dockerfile fit the 20 KiB budget; the two other files went to disk.
    assert sum(len(d) for d in in_memory) <= 20 * 1024
    assert len(spilled) == 2 and not any(p.exists() for p in spilled)
    for name, data in weights.items():
        stored = hub.spaces["acme/app"].files[name]
        assert stored.matches(git_blob(data), hashlib.sha256(data).hexdigest())


def test_a_full_temp_disk_fails_the_space_with_its_own_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import tempfile

    monkeypatch.setattr(spacectl.apply, "MEMORY_BUDGET", 0)

    def full(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.12\n")
    hub = FakeHub()
    hub.add_space("acme/app")
    plan = _plan(hub, "owner: acme\nspaces:\n  app: {sdk: docker, source: ./app}\n", tmp_path)
    result = _apply(hub, plan, tmp_path).spaces[0]
    assert result.outcome is Outcome.FAILED  # not REFUSED: planning again would not help
    assert "cannot write a temporary copy" in (result.error or "")
    assert "TMPDIR" in (result.hint or "")
    assert hub.writes("acme/app") == []


def test_a_file_edited_after_the_plan_is_refused(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.12\n")
    hub = FakeHub()
    hub.add_space("acme/app")
    plan = _plan(hub, "owner: acme\nspaces:\n  app: {sdk: docker, source: ./app}\n", tmp_path)
    (tmp_path / "app" / "Dockerfile").write_text("FROM python:3.13\n")
    result = _apply(hub, plan, tmp_path).spaces[0]
    assert result.outcome is Outcome.REFUSED
    assert "changed after the plan was made" in (result.error or "")
    assert hub.writes("acme/app") == []
