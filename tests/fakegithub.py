"""A fake GitHub REST API on loopback: the few issue and comment endpoints the action calls,
kept in memory, with GitHub's answers to a missing, unknown or read-only token."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BODY_LIMIT = 65_536
ID_TOKEN_PATH = "/_actions/idtoken"


@dataclass
class FakeGitHub:
    """One repository's issues (pull requests are issues too, as on GitHub) and comments.

    `tokens` maps a token to "write" or "read"; a read token's writes get GitHub's 403.
    `requests` logs (method, path) of every authorised request."""

    repository: str
    tokens: dict[str, str]
    url: str = ""
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The Actions runtime's OIDC endpoint (ACTIONS_ID_TOKEN_REQUEST_URL = url + ID_TOKEN_PATH):
    # audience -> a signed id token, for jobs with `permissions: id-token: write`.
    id_token: Callable[[str], str] | None = None

    def add_pull_request(self, number: int, title: str = "A change") -> None:
        self.issues[number] = {
            "number": number,
            "title": title,
            "body": "",
            "state": "open",
            "pull_request": {"url": f"{self.url}/repos/{self.repository}/pulls/{number}"},
        }

    def add_comment(self, number: int, body: str) -> int:
        comment_id = 1000 + len(self.comments)
        self.comments[comment_id] = {"id": comment_id, "issue": number, "body": body}
        return comment_id

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == number]

    def plain_issues(self) -> list[dict[str, Any]]:
        return [i for i in self.issues.values() if "pull_request" not in i]

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if path == ID_TOKEN_PATH and method == "GET" and self.id_token is not None:
            return 200, {"value": self.id_token(query["audience"][0])}
        prefix = f"/repos/{self.repository}"
        if not path.startswith(prefix):
            return 404, {"message": "Not Found"}
        route = path[len(prefix) :]
        if isinstance(body, dict) and len(str(body.get("body", ""))) > BODY_LIMIT:
            return 422, {"message": "Validation Failed: body is too long"}
        if match := re.fullmatch(r"/issues/(\d+)/comments", route):
            number = int(match[1])
            if number not in self.issues:
                return 404, {"message": "Not Found"}
            if method == "GET":
                return 200, _page(self.comments_on(number), query)
            if method == "POST":
                comment_id = self.add_comment(number, body["body"])
                return 201, self.comments[comment_id]
        elif match := re.fullmatch(r"/issues/comments/(\d+)", route):
            comment = self.comments.get(int(match[1]))
            if comment is None:
                return 404, {"message": "Not Found"}
            if method == "PATCH":
                comment["body"] = body["body"]
                return 200, comment
        elif route == "/issues":
            if method == "GET":
                state = query.get("state", ["open"])[0]
                listed = [i for i in self.issues.values() if state in ("all", i["state"])]
                return 200, _page(listed, query)
            if method == "POST":
                number = max(self.issues, default=0) + 1
                self.issues[number] = {
                    "number": number,
                    "title": body["title"],
                    "body": body.get("body", ""),
                    "state": "open",
                }
                return 201, self.issues[number]
        elif match := re.fullmatch(r"/issues/(\d+)", route):
            issue = self.issues.get(int(match[1]))
            if issue is None:
                return 404, {"message": "Not Found"}
            if method == "PATCH":
                issue.update({k: body[k] for k in ("title", "body", "state") if k in body})
                return 200, issue
        return 404, {"message": "Not Found"}


def _page(items: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    size = int(query.get("per_page", ["30"])[0])
    page = int(query.get("page", ["1"])[0])
    return items[(page - 1) * size : page * size]


@contextmanager
def fake_github(repository: str, tokens: dict[str, str]) -> Iterator[FakeGitHub]:
    """Serve a FakeGitHub on 127.0.0.1 (a thread) for the duration of the block."""
    state = FakeGitHub(repository, tokens)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
            access = state.tokens.get(token or "")
            if access is None:
                status, answer = 401, {"message": "Bad credentials"}
            elif self.command != "GET" and access != "write":
                status, answer = 403, {"message": "Resource not accessible by integration"}
            else:
                with state.lock:
                    state.requests.append((self.command, url.path))
                    status, answer = state.handle(
                        self.command, url.path, parse_qs(url.query), json.loads(raw or b"null")
                    )
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
