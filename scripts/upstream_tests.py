"""Run huggingface_hub's own upstream tests against a `spacectl sandbox serve` process.

    python scripts/upstream_tests.py --upstream GIT_DIR [--xet on|off] [--junit FILE] [SELECT...]

GIT_DIR is a clone (or bare git directory) of github.com/huggingface/huggingface_hub; its
`tests/` at `--ref` (default HEAD) is copied to a scratch folder and run with the installed
client (pytest-mock is needed: `pip install pytest-mock`). The copy is pointed at the sandbox:
`testing_constants.py` gets the sandbox's endpoint for ENDPOINT_STAGING and its users' names
and tokens, and the copied conftest.py gets a shim that makes every repository a Space (the
sandbox hosts Spaces only): an HfApi method called without `repo_type` (or with "model") gets
`repo_type="space"`, and `create_repo` a `space_sdk`. Tests marked `production` (they read
huggingface.co) are deselected.

SELECT defaults to the commit, tree, delete-files and download tests (DEFAULT_SELECTION). The
script prints the counts and each failure's first line, writes the JUnit XML to `--junit`, and
exits 0 whatever the tests did (it measures; it is no gate). Not collected by spacectl's pytest
run (it lives outside tests/). See docs/sandbox.md, "Fidelity".
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from io import BytesIO
from pathlib import Path

from spacectl.sandbox.testing import sandbox_process

# The upstream test users (tests/testing_constants.py) become sandbox users with those tokens.
USERS = {
    "__DUMMY_HUB_USER__": "hf_HubCITokenXXXXXXXXXXXXXXXXXXXXX",
    "DVUser": "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",
}
DEFAULT_SELECTION = [
    "tests/test_hf_api.py::TestCommitApi",
    "tests/test_hf_api.py::TestHfApiUploadEmptyFile",
    "tests/test_hf_api.py::TestHfApiDeleteFolder",
    "tests/test_hf_api.py::TestHfApiListRepoTree",
    "tests/test_hf_api.py::TestHfApiDeleteFiles",
    "tests/test_hf_api.py::TestHfApiRepoFileExists",
    "tests/test_hf_api.py::TestListGitRefs",
    "tests/test_hf_api.py::TestListGitCommits",
    "tests/test_file_download.py",
    "tests/test_snapshot_download.py",
]
_SHIM = """

# --- added by spacectl's scripts/upstream_tests.py: every repository is a Space -----------------
import functools as _functools
import inspect as _inspect

from huggingface_hub import HfApi as _HfApi


def _as_space(method):
    signature = _inspect.signature(method)

    @_functools.wraps(method)
    def wrapper(*args, **kwargs):
        bound = signature.bind_partial(*args, **kwargs)
        if bound.arguments.get("repo_type") in (None, "model"):
            bound.arguments["repo_type"] = "space"
        if method.__name__ == "create_repo" and bound.arguments.get("space_sdk") is None:
            if bound.arguments.get("space_template") is None:
                bound.arguments["space_sdk"] = "gradio"
        return method(*bound.args, **bound.kwargs)

    return wrapper


def _takes_repo_type(function):
    try:
        return "repo_type" in _inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


for _name, _method in list(vars(_HfApi).items()):
    if _inspect.isfunction(_method) and not _name.startswith("_") and _takes_repo_type(_method):
        setattr(_HfApi, _name, _as_space(_method))


def _model_info(self, repo_id, **kwargs):  # reads the Space; model-only options dropped
    allowed = _inspect.signature(_HfApi.space_info).parameters
    return self.space_info(repo_id, **{k: v for k, v in kwargs.items() if k in allowed})


_HfApi.model_info = _model_info

# Module-level aliases (`huggingface_hub.upload_file`, ...) are methods bound at import: rebind.
import huggingface_hub.hf_api as _hf_api_module

for _name, _value in list(vars(_hf_api_module).items()):
    if _inspect.ismethod(_value) and isinstance(_value.__self__, _HfApi):
        setattr(_hf_api_module, _name, getattr(_value.__self__, _name))

# The download functions the tests import by name (before their modules are imported).
import huggingface_hub as _hfh
import huggingface_hub._snapshot_download as _snapshot
import huggingface_hub.file_download as _file_download

for _module in (_file_download, _snapshot):
    for _name, _function in list(vars(_module).items()):
        if _inspect.isfunction(_function) and not _name.startswith("_"):
            if _function.__module__ == _module.__name__ and _takes_repo_type(_function):
                _wrapped = _as_space(_function)
                setattr(_module, _name, _wrapped)
                if getattr(_hfh, _name, None) is _function:
                    setattr(_hfh, _name, _wrapped)
for _name in dir(_hf_api_module):
    _value = getattr(_hf_api_module, _name)
    if _inspect.ismethod(_value) and isinstance(_value.__self__, _HfApi):
        if _name in vars(_hfh):
            setattr(_hfh, _name, _value)
"""


def _copy_tests(git_dir: Path, ref: str, into: Path) -> None:
    """`tests/` of `ref` in the repository at `git_dir`, extracted under `into`."""
    archive = subprocess.run(
        ["git", "--git-dir", str(git_dir), "archive", "--format=tar", ref, "tests"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


_MISSING = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")


def _stubs(missing: list[tuple[str, str]]) -> str:
    """Code giving each (module, name) the installed client lacks a placeholder, so that a test
    module importing it still loads; a test using it fails (reported as an API difference)."""
    lines = ["import importlib as _importlib\n\n", "class _MissingInInstalledClient:\n"]
    lines.append("    def __init__(self, name):\n        self.name = name\n\n")
    lines.append("    def __call__(self, *args, **kwargs):\n")
    lines.append(
        '        raise NotImplementedError(f"{self.name}: not in the installed client")\n\n\n'
    )
    for module, name in missing:
        lines.append(
            f"setattr(_importlib.import_module({module!r}), {name!r}, "
            f"_MissingInInstalledClient({module + '.' + name!r}))\n"
        )
    return "".join(lines) + "\n"


def _point_at(tests: Path, endpoint: str, missing: list[tuple[str, str]]) -> None:
    """Point the copied tests at `endpoint`, give them the names in `missing`, add the shim."""
    constants = tests / "testing_constants.py"
    text = constants.read_text(encoding="utf-8")
    text = re.sub(r"^ENDPOINT_STAGING = .*$", f'ENDPOINT_STAGING = "{endpoint}"', text, flags=re.M)
    constants.write_text(text, encoding="utf-8")
    conftest = tests / "conftest.py"
    original = tests / "conftest.py.orig"
    if not original.exists():
        original.write_text(conftest.read_text(encoding="utf-8"), encoding="utf-8")
    conftest.write_text(
        _stubs(missing) + original.read_text(encoding="utf-8") + _SHIM, encoding="utf-8"
    )


def _find_missing(
    root: Path, tests: Path, env: dict[str, str], select: list[str], endpoint: str
) -> list[tuple[str, str]]:
    """The names the tests import that the installed client lacks, by collecting until none."""
    missing: list[tuple[str, str]] = []
    for _ in range(50):
        _point_at(tests, endpoint, missing)
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", *select]
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        found = [(m, n) for n, m in _MISSING.findall(done.stdout + done.stderr)]
        new = [item for item in dict.fromkeys(found) if item not in missing]
        if not new:
            return missing
        missing += new
    return missing


def _summary(junit: Path) -> dict[str, list[tuple[str, str]]]:
    """Test ids by outcome (passed, failed, error, skipped), each with its message's first line."""
    outcomes: dict[str, list[tuple[str, str]]] = {
        "passed": [],
        "failed": [],
        "error": [],
        "skipped": [],
    }
    for case in ET.parse(junit).iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        for kind in ("failure", "error", "skipped"):
            found = case.find(kind)
            if found is not None:
                message = (found.get("message") or found.text or "").strip().splitlines()
                key = {"failure": "failed", "error": "error", "skipped": "skipped"}[kind]
                outcomes[key].append((name, message[0][:200] if message else ""))
                break
        else:
            outcomes["passed"].append((name, ""))
    return outcomes


def main(argv: list[str]) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--upstream", type=Path, required=True, help="huggingface_hub git dir")
    args.add_argument("--ref", default="HEAD", help="the commit whose tests/ to run")
    args.add_argument("--xet", choices=("on", "off"), default="off")
    args.add_argument("--junit", type=Path, help="where to keep the JUnit XML")
    args.add_argument("--timeout", type=int, default=120, help="seconds per test")
    args.add_argument("select", nargs="*", default=DEFAULT_SELECTION)
    options = args.parse_args(argv)
    git_dir = (
        options.upstream / ".git" if (options.upstream / ".git").exists() else options.upstream
    )
    with tempfile.TemporaryDirectory(prefix="hfh-upstream-") as scratch:
        root = Path(scratch)
        _copy_tests(git_dir, options.ref, root)
        (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
        # The installed client speaks httpx2, upstream's tests import httpx: one module for both.
        (root / "httpx.py").write_text(
            "import sys\n\nimport httpx2\n\nsys.modules[__name__] = httpx2\n"
        )
        users = [f"{name}:{token}" for name, token in USERS.items()]
        with sandbox_process(root / "sandbox", build_seconds=0.2, user=users) as sandbox:
            env = sandbox.env(xet=options.xet == "on", token=USERS["__DUMMY_HUB_USER__"])
            env.pop("HF_TOKEN")  # upstream runs with HF_TOKEN="" and passes tokens itself
            missing = _find_missing(root, root / "tests", env, options.select, sandbox.endpoint)
            junit = options.junit or root / "junit.xml"
            command = [
                sys.executable, "-m", "pytest", "-q", "-rN", "-m", "not production",
                f"--timeout={options.timeout}", f"--junitxml={junit}", *options.select,
            ]  # fmt: skip
            done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
            (root / "pytest.log").write_text(done.stdout + done.stderr)
            if not junit.exists():
                print(done.stdout[-3000:] + done.stderr[-3000:])
                return 1
            outcomes = _summary(junit)
    if missing:
        names = ", ".join(f"{m}.{n}" for m, n in missing)
        print(f"names the tests import that the installed client lacks (stubbed): {names}")
    counts = ", ".join(f"{len(v)} {k}" for k, v in outcomes.items())
    print(f"upstream tests against the sandbox (Xet {options.xet}): {counts}")
    for kind in ("failed", "error"):
        for name, message in outcomes[kind]:
            print(f"{kind.upper()} {name}: {message}")
    if os.environ.get("UPSTREAM_SHOW_SKIPPED"):
        for name, message in outcomes["skipped"]:
            print(f"SKIPPED {name}: {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
