"""The scripted flow spacectl is compared with: what the deploy guide tells users to write.

Run by `bench/run.py` as its own process (the client reads HF_ENDPOINT at import):
`python -m bench.baseline SPEC.json [--wait]`. SPEC is `{"owner", "spaces": [{"name", "sdk",
"folder", "variables": {K: V}, "secrets": {K: ENV_NAME}, "hardware"}]}`. Per Space, in order:
`create_repo(exist_ok=True)`, `add_space_secret` for each secret, `add_space_variable` for each
variable, `request_space_hardware` when one is named, `upload_folder`. With `--wait`, then poll
`get_space_runtime` of every Space still building, once a second, until each one runs (or fails).
This is the huggingface_hub client used directly, the way a user script would.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi

SETTLED = {"RUNNING", "SLEEPING", "BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR", "NO_APP_FILE"}


def deploy(api: HfApi, spec: dict[str, Any]) -> list[str]:
    repos = []
    for space in spec["spaces"]:
        repo_id = f"{spec['owner']}/{space['name']}"
        api.create_repo(repo_id, repo_type="space", space_sdk=space["sdk"], exist_ok=True)
        for key, env_name in space.get("secrets", {}).items():
            api.add_space_secret(repo_id, key, os.environ[env_name])
        for key, value in space.get("variables", {}).items():
            api.add_space_variable(repo_id, key, str(value))
        if space.get("hardware"):
            api.request_space_hardware(repo_id, space["hardware"])
        api.upload_folder(repo_id=repo_id, repo_type="space", folder_path=space["folder"])
        repos.append(repo_id)
    return repos


def wait(api: HfApi, repos: list[str], timeout: float = 600.0) -> bool:
    pending = list(repos)
    deadline = time.monotonic() + timeout
    ok = True
    while pending and time.monotonic() < deadline:
        still = []
        for repo_id in pending:
            stage = api.get_space_runtime(repo_id).stage
            if stage not in SETTLED:
                still.append(repo_id)
            elif stage not in ("RUNNING", "SLEEPING"):
                ok = False
        pending = still
        if pending:
            time.sleep(1.0)
    return ok and not pending


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    api = HfApi()
    repos = deploy(api, spec)
    if "--wait" in argv[1:]:
        return 0 if wait(api, repos) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
