"""Fuzz every route of the sandbox and count 5xx answers and dropped connections; then many
clients at once.

Run: `python -m bench.fuzz [--requests N] [--seed S] [--show K] [--clients C]
[--seconds T]` (about a minute with the defaults: 2,000 requests, then 50 clients for 20 s).
Starts `spacectl sandbox serve`, creates one Space, sends seeded mutated requests
(tests/sandbox/fuzzing.py: methods, path parameters, queries, headers, malformed, nested and
oversized bodies, lone surrogates, NUL) and prints the counts and the first problems; then C
clients (threads with an HfApi each) write and read one Space for T seconds.
tests/sandbox/test_abuse.py runs 1,500 fuzzed requests and 50 clients for 5 s in the suite.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from huggingface_hub import HfApi

from spacectl.sandbox.testing import sandbox_process
from tests.sandbox.fuzzing import many_clients, run_fuzz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--show", type=int, default=15)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with sandbox_process(user=["alice:hf_alice:write", "alice:hf_alice_read:read"]) as sandbox:
        HfApi(endpoint=sandbox.endpoint, token="hf_alice").create_repo(
            "alice/target", repo_type="space", space_sdk="static"
        )
        started = time.monotonic()
        report = run_fuzz(
            sandbox.endpoint,
            ["hf_alice", "hf_alice_read", "hf_unknown"],
            ("alice", "target"),
            seed=args.seed,
            count=args.requests,
        )
        elapsed = time.monotonic() - started
        alive = sandbox.http("GET", "/api/spaces/alice/target")[0]
        print(f"{report.summary()} in {elapsed:.1f}s; still serving: {alive == 200}")
        for line in report.problems()[: args.show]:
            print("  " + line)
        if args.clients:
            counts, errors = many_clients(
                sandbox.endpoint, "hf_alice", "alice/target", args.clients, args.seconds
            )
            alive = sandbox.http("GET", "/api/spaces/alice/target")[0]
            print(
                f"{args.clients} clients x {args.seconds:.0f} s: {sum(counts)} requests, "
                f"{len(errors)} clients failed, fewest requests of a client "
                f"{min(counts, default=0)}; still serving: {alive == 200}"
            )
            for line in errors[: args.show]:
                print("  " + line)


if __name__ == "__main__":
    main()
