"""A seeded fuzzer of the sandbox's routes (every path of `urls.ROUTES`), over raw sockets so
that nothing on the client side cleans a request up: mutated methods, path parameters, queries,
headers and bodies (malformed, deeply nested, oversized, invalid UTF-8, lone surrogates, NUL).

`run_fuzz` sends `count` requests, each on a fresh connection, and classifies every answer: a
status >= 500 (the xet token routes' designed 501 aside), a dropped connection (no complete
HTTP answer), a response header that is too long or holds a control character, or a JSON error
body that does not parse. Used by tests/sandbox/test_fuzz.py and bench/fuzz.py.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from huggingface_hub import HfApi

from spacectl.sandbox.urls import ROUTES

_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
_METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "FOO"]
_MAX_HEADER = 8192


@dataclass
class FuzzReport:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    bad_headers: list[str] = field(default_factory=list)
    bad_json: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*self.server_errors, *self.dropped, *self.bad_headers, *self.bad_json]

    def summary(self) -> str:
        return (
            f"{self.sent} requests: {len(self.server_errors)} answered 5xx, "
            f"{len(self.dropped)} dropped, {len(self.bad_headers)} bad headers, "
            f"{len(self.bad_json)} unparsable JSON errors; "
            f"statuses {dict(sorted(self.statuses.items()))}"
        )


def _nested(depth: int, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def _weird_string(rng: random.Random) -> Any:
    return rng.choice(
        [
            "\ud800",
            "a\udcff.txt",
            "nul\u0000byte",
            "x" * rng.choice([1, 300, 70_000]),
            "../../etc/passwd",
            "\r\nX-Injected: 1",
            "é/ü/😀",
            "",
            " ",
        ]
    )


def _weird_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9)
    if kind == 0:
        return _weird_string(rng)
    if kind == 1:
        return rng.choice([None, True, False, 0, -1, 1e308, 2**70])
    if kind == 2 and depth < 3:
        return [_weird_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    if kind == 3 and depth < 3:
        return {_weird_string(rng): _weird_value(rng, depth + 1) for _ in range(rng.randrange(3))}
    return rng.choice(["space", "static", "docker", "gradio", "upload", "main", "public"])


def _json(data: Any) -> bytes:
    # Lone surrogates as JSON escapes: valid JSON text, an invalid string once decoded.
    return json.dumps(data, ensure_ascii=True).encode()


def _commit_body(rng: random.Random) -> bytes:
    path = rng.choice(["ok.txt", "a\udc80.txt", "nul\u0000.txt", "../x", "dir/", "x" * 2000])
    lines = [
        {"key": "header", "value": {"summary": _weird_value(rng), "description": ""}},
        {"key": "file", "value": {"path": path, "content": "aGk=", "encoding": "base64"}},
        {"key": rng.choice(["deletedFile", "lfsFile", "file"]), "value": _weird_value(rng)},
    ]
    rng.shuffle(lines) if rng.random() < 0.2 else None
    return b"\n".join(_json(line) for line in lines[: rng.randrange(1, 4)])


def _body(rng: random.Random, route: str) -> tuple[bytes | None, str]:
    kind = rng.randrange(12)
    if kind == 0:
        return None, "application/json"
    if kind == 1:
        return b"", "application/json"
    if kind == 2:
        return _nested(rng.choice([100, 5_000, 200_000]), rng), "application/json"
    if kind == 3:
        return b"\xff\xfe\x00{", "application/json"
    if kind == 4:
        return b"9" * 5000, "application/json"  # an int over Python's digit limit
    if kind == 5:
        return b"x" * rng.choice([1 << 20, 12 << 20]), "application/octet-stream"
    if kind == 6 or "/commit/" in route:
        return _commit_body(rng), "application/x-ndjson"
    if kind == 7:
        return b'{"a": "\\ud800", "\\u0000": "\\udfff"}', "application/json"
    template = {
        "name": "fuzzed",
        "organization": _weird_value(rng),
        "type": "space",
        "sdk": _weird_value(rng),
        "key": _weird_string(rng),
        "value": _weird_value(rng),
        "fromRepo": _weird_value(rng),
        "toRepo": _weird_value(rng),
        "operation": "upload",
        "objects": _weird_value(rng),
        "paths": _weird_value(rng),
        "files": _weird_value(rng),
        "content": _weird_value(rng),
        "private": _weird_value(rng),
        "visibility": _weird_value(rng),
        "flavor": _weird_value(rng),
        "seconds": _weird_value(rng),
        "volumes": _weird_value(rng),
        "stage": _weird_value(rng),
        "advance_seconds": _weird_value(rng),
        "build_seconds": _weird_value(rng),
        "page_size": _weird_value(rng),
        "error_rate": _weird_value(rng),
    }
    keys = rng.sample(sorted(template), rng.randrange(1, 6))
    return _json({k: template[k] for k in keys}), "application/json"


def _segment(rng: random.Random, name: str, space: tuple[str, str]) -> str:
    ns, repo = space
    good = {"ns": ns, "name": repo, "repo": repo + ".git", "rev": "main", "kind": "build"}
    choice = rng.randrange(10)
    if choice < 5 and name in good:
        return good[name]
    if choice < 6 and name == "path":
        return "README.md"
    return rng.choice(
        ["%ED%A0%80", "%00", "%FF%FE", "a%2Fb", "..", "x" * 5000, "%C3%A9", "%", "%zz", "ok"]
    )


def _path(rng: random.Random, template: str, space: tuple[str, str]) -> str:
    path = _PARAM.sub(lambda m: _segment(rng, m.group(1), space), template)
    if rng.random() < 0.3:
        query = rng.choice(
            [
                "limit=abc",
                "limit=-1",
                "cursor=%%%",
                "cursor=" + quote("!!"),
                "expand=sdk&expand=%00",
                "recursive=true&expand=true",
                "create_pr=1",
                "author=%ED%A0%80",
                "search=" + "q" * 3000,
            ]
        )
        path += "?" + query
    return path


def _headers(rng: random.Random, tokens: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    choice = rng.randrange(8)
    if choice < 4:
        headers["Authorization"] = f"Bearer {tokens[0]}"
    elif choice == 4:
        headers["Authorization"] = f"Bearer {rng.choice(tokens)}"
    elif choice == 5:
        headers["Authorization"] = rng.choice(["Bearer", "Basic abc", "Bearer x\x00y", "Bearer é"])
    if rng.random() < 0.1:
        headers["X-Weird"] = "v" * rng.choice([10, 20_000])
    return headers


def _request(
    method: str, path: str, headers: dict[str, str], body: bytes | None, host: str
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n"
    return head + (body or b"")


def send_raw(
    host: str, port: int, raw: bytes, method: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    with socket.create_connection((host, port), timeout=60) as sock:
        # The server may answer (401, 413, 400) before it read the whole body.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response.status, response.getheaders(), response.read()


def run_fuzz(
    endpoint: str, tokens: list[str], space: tuple[str, str], *, seed: int, count: int
) -> FuzzReport:
    """Send `count` seeded requests to the sandbox at `endpoint` (http://host:port);
    `tokens[0]` is a write token of the owner of `space`, an existing Space."""
    rng = random.Random(seed)
    hostport = endpoint.split("//", 1)[1].rstrip("/")
    host, _, port = hostport.partition(":")
    report = FuzzReport()
    routes = [(path, methods) for path, _, methods in ROUTES]
    for number in range(count):
        template, methods = routes[number % len(routes)]
        method = rng.choice(methods) if rng.random() < 0.8 else rng.choice(_METHODS)
        path = _path(rng, template, space)
        body, content_type = _body(rng, template)
        headers = _headers(rng, tokens)
        if body is not None:
            headers["Content-Type"] = content_type
        what = f"#{number} {method} {path[:120]}"
        report.sent += 1
        try:
            status, answer_headers, answer = send_raw(
                host, int(port), _request(method, path, headers, body, hostport), method
            )
        except (OSError, http.client.HTTPException) as exc:
            report.dropped.append(f"{what}: {type(exc).__name__}")
            continue
        report.statuses[status] += 1
        if status >= 500 and not (status == 501 and "xet-" in template):
            report.server_errors.append(f"{what}: {status} {answer[:200]!r}")
        for name, value in answer_headers:
            if len(value) > _MAX_HEADER or any(ord(c) < 32 and c != "\t" for c in value):
                report.bad_headers.append(f"{what}: header {name} ({len(value)} chars)")
        kind = dict((k.lower(), v) for k, v in answer_headers).get("content-type", "")
        if status >= 400 and "json" in kind and method != "HEAD":
            try:
                json.loads(answer)
            except ValueError:
                report.bad_json.append(f"{what}: {answer[:120]!r}")
    return report


def _hammer(
    endpoint: str,
    token: str,
    space: str,
    seconds: float,
    errors: list[str],
    counts: list[int],
    n: int,
) -> None:
    api = HfApi(endpoint=endpoint, token=token)
    deadline = time.monotonic() + seconds
    done = 0
    while time.monotonic() < deadline:
        try:
            if done % 3 == 0:
                api.add_space_variable(space, f"K{n}", str(done))
            else:
                api.space_info(space)
            done += 1
        except Exception as exc:  # every failure is the finding
            errors.append(f"{n}: {type(exc).__name__}: {str(exc)[:120]}")
            return
    counts.append(done)


def many_clients(
    endpoint: str, token: str, space: str, clients: int, seconds: float
) -> tuple[list[int], list[str]]:
    """`clients` threads, each with its own HfApi, writing a variable of `space` (one in three
    requests) and reading it for `seconds`; each thread's request count, and the failures."""
    errors: list[str] = []
    counts: list[int] = []
    threads = [
        threading.Thread(target=_hammer, args=(endpoint, token, space, seconds, errors, counts, n))
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts, errors
