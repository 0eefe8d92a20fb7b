"""The client's HF_DEBUG output without secret values: a logging filter `hub.configure_client`
installs on the client's HTTP logger. Stdlib only; nothing here imports the client."""

from __future__ import annotations

import json
import logging
import re
import shlex
from typing import Any

# The client's HF_DEBUG log line of a request: `Send: curl -X POST -H ... -d BODY URL`.
_REDACTED = "<secret value redacted by spacectl>"


def redact_secret_bodies(record: logging.LogRecord) -> bool:
    """A logging filter: with HF_DEBUG=1 the client logs every request body as a curl command,
    masking only the Authorization header. A body that sets a secret (a Space's secrets route,
    or a create call carrying `secrets`) gets each value replaced before the record reaches any
    handler; one that cannot be read as JSON (the client cuts bodies at 1,000 characters) is
    replaced whole. Keeps every record."""
    if record.msg == "Send: %s" and isinstance(record.args, tuple) and record.args:
        text = str(record.args[0])
        if "secret" in text.lower():
            record.args = (_redacted_curl(text),)
    return True


def _redacted_curl(text: str) -> str:
    try:
        parts = shlex.split(text)
    except ValueError:
        return "curl (request with a secret; not shown by spacectl)"
    if "-d" not in parts[:-1]:
        return text
    at = parts.index("-d") + 1
    parts[at] = _redacted_body(parts[at], parts[-1])
    return shlex.join(parts)


def _redacted_body(body: str, url: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return _REDACTED
    items: list[Any] = []
    if isinstance(data, dict) and re.search(r"/api/spaces/.+/secrets", url):
        items = [data]
    elif isinstance(data, dict) and isinstance(data.get("secrets"), list):
        items = list(data["secrets"])
    elif isinstance(data, dict) and "secrets" not in data:
        return body  # "secret" was only a word in it (a description, a name)
    else:
        return _REDACTED
    for item in items:
        if isinstance(item, dict) and "value" in item:
            item["value"] = _REDACTED
    return json.dumps(data)
