"""Per-request latency of the sandbox on a kept-alive connection, as the real client sees it.

Run: `python -m bench.latency [--requests N]` (a few seconds). Starts `spacectl sandbox
serve` as a process, creates one Space, then times N sequential `get_space_variables` calls
through one HfApi (one kept-alive HTTP connection) and prints the mean and the median.
"""

from __future__ import annotations

import argparse
import statistics
import time

from huggingface_hub import HfApi

from spacectl.sandbox.testing import sandbox_process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with sandbox_process(user=["alice:hf_alice:write"]) as sandbox:
        api = HfApi(endpoint=sandbox.endpoint, token="hf_alice")
        api.create_repo("alice/bench", repo_type="space", space_sdk="docker")
        api.get_space_variables("alice/bench")  # the connection is open from here on
        times = []
        for _ in range(args.requests):
            start = time.perf_counter()
            api.get_space_variables("alice/bench")
            times.append((time.perf_counter() - start) * 1000)
    print(f"sandbox latency, {args.requests} sequential GET /api/spaces/.../variables on one")
    print(
        f"kept-alive connection: mean {statistics.mean(times):.1f} ms, "
        f"median {statistics.median(times):.1f} ms, max {max(times):.1f} ms"
    )


if __name__ == "__main__":
    main()
