"""A client process for the crash trials: `store_writer.py REPO SEED` writes to the Space REPO
through the real client (HF_ENDPOINT, HF_TOKEN from the environment) until the sandbox dies.

Before each write it prints `{"send": OP}`, after the client returned `{"ack": OP}` (one JSON
line each, flushed), so the test knows which writes were acknowledged and which one was in
flight. OP is `["var", KEY, VALUE]`, `["unvar", KEY]`, `["file", PATH, CONTENT]` or
`["space", REPO_ID]`.
"""

from __future__ import annotations

import json
import random
import sys

from huggingface_hub import HfApi


def main() -> None:
    repo, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    api = HfApi()
    for index in range(100_000):
        choice = rng.random()
        if choice < 0.5:
            op = ["var", f"K{rng.randrange(4)}", f"v{index}"]
        elif choice < 0.6:
            op = ["unvar", f"K{rng.randrange(4)}"]
        elif choice < 0.9:
            op = ["file", f"f{rng.randrange(3)}.txt", f"content {index}\n"]
        else:
            op = ["space", f"{repo}-{index}"]
        print(json.dumps({"send": op}), flush=True)
        try:
            if op[0] == "var":
                api.add_space_variable(repo, op[1], op[2])
            elif op[0] == "unvar":
                api.delete_space_variable(repo, op[1])
            elif op[0] == "file":
                api.upload_file(
                    path_or_fileobj=op[2].encode(),
                    path_in_repo=op[1],
                    repo_id=repo,
                    repo_type="space",
                )
            else:
                api.create_repo(op[1], repo_type="space", space_sdk="docker")
        except Exception as error:  # the sandbox was killed: stop, unacknowledged
            print(json.dumps({"error": type(error).__name__}), flush=True)
            return
        print(json.dumps({"ack": op}), flush=True)


if __name__ == "__main__":
    main()
