"""A minimal HTTP service for the IFCore platform Space (standard library only).

GET /        -> a short HTML page
GET /health  -> {"status": "ok", ...} as JSON
The Gemini key is read from the environment (a Space secret) and never echoed.
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "7860"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            body = json.dumps(
                {
                    "status": "ok",
                    "log_level": os.environ.get("LOG_LEVEL", "info"),
                    "gemini_configured": bool(os.environ.get("GEMINI_API_KEY")),
                }
            ).encode()
            content_type = "application/json"
        else:
            body = b"<h1>IFCore Platform</h1><p>See <a href='/health'>/health</a>.</p>"
            content_type = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()


if __name__ == "__main__":
    main()
