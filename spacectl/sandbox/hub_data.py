"""Static catalogues the sandbox serves: hardware flavours and repository name rules."""

from __future__ import annotations

import functools
import re
from typing import Any


def _flavor(
    name: str,
    pretty: str,
    cpu: str,
    ram: str,
    usd_per_hour: float,
    accelerator: tuple[str, int, str] | None = None,
) -> dict[str, Any]:
    """A flavour as `GET /api/spaces/hardware` lists it; prices are billed per minute."""
    per_minute = usd_per_hour / 60
    item: dict[str, Any] = {
        "name": name,
        "prettyName": pretty,
        "cpu": cpu,
        "ram": ram,
        "ephemeralStorage": "50 GB",
        "accelerator": None,
        "unitCostMicroUSD": round(per_minute * 1_000_000),
        "unitCostUSD": round(per_minute, 6),
        "unitLabel": "minute",
    }
    if accelerator is not None:
        model, quantity, vram = accelerator
        item["accelerator"] = {
            "type": "gpu",
            "model": model,
            "quantity": str(quantity),
            "vram": vram,
            "manufacturer": "Nvidia",
        }
    return item


# Specs and per-hour prices (billed per minute) of the flavours the sandbox has always served.
_KNOWN: dict[str, dict[str, Any]] = {
    f["name"]: f
    for f in [
        _flavor("cpu-basic", "CPU basic", "2 vCPU", "16 GB", 0.0),
        _flavor("cpu-upgrade", "CPU upgrade", "8 vCPU", "32 GB", 0.03),
        _flavor("zero-a10g", "ZeroGPU", "2 vCPU", "16 GB", 0.0, ("A100", 1, "40 GB")),
        _flavor("t4-small", "Nvidia T4 - small", "4 vCPU", "15 GB", 0.40, ("T4", 1, "16 GB")),
        _flavor("t4-medium", "Nvidia T4 - medium", "8 vCPU", "30 GB", 0.60, ("T4", 1, "16 GB")),
        _flavor("l4x1", "1x Nvidia L4", "8 vCPU", "30 GB", 0.80, ("L4", 1, "24 GB")),
        _flavor("l4x4", "4x Nvidia L4", "48 vCPU", "186 GB", 3.80, ("L4", 4, "96 GB")),
        _flavor("l40sx1", "1x Nvidia L40S", "8 vCPU", "62 GB", 1.80, ("L40S", 1, "48 GB")),
        _flavor("l40sx4", "4x Nvidia L40S", "48 vCPU", "382 GB", 8.30, ("L40S", 4, "192 GB")),
        _flavor("l40sx8", "8x Nvidia L40S", "192 vCPU", "1534 GB", 23.50, ("L40S", 8, "384 GB")),
        _flavor("a10g-small", "Nvidia A10G - small", "4 vCPU", "15 GB", 1.00, ("A10G", 1, "24 GB")),
        _flavor(
            "a10g-large", "Nvidia A10G - large", "12 vCPU", "46 GB", 1.50, ("A10G", 1, "24 GB")
        ),
        _flavor(
            "a10g-largex2", "2x Nvidia A10G - large", "24 vCPU", "92 GB", 3.00, ("A10G", 2, "48 GB")
        ),
        _flavor(
            "a10g-largex4",
            "4x Nvidia A10G - large",
            "48 vCPU",
            "184 GB",
            5.00,
            ("A10G", 4, "96 GB"),
        ),
        _flavor(
            "a100-large", "Nvidia A100 - large", "12 vCPU", "142 GB", 2.50, ("A100", 1, "80 GB")
        ),
        _flavor("a100x4", "4x Nvidia A100", "48 vCPU", "568 GB", 10.0, ("A100", 4, "320 GB")),
        _flavor("a100x8", "8x Nvidia A100", "96 vCPU", "1136 GB", 20.0, ("A100", 8, "640 GB")),
    ]
}


# Flavours the client's `SpaceHardware` lists whose spec and price the sandbox does not know:
# MADE-UP values (docs/sandbox.md says so), the single-GPU form; `NAMExN` scales it by N.
_MADE_UP: dict[str, dict[str, Any]] = {
    "rtx-pro-6000": _flavor(
        "rtx-pro-6000",
        "1x Nvidia RTX PRO 6000",
        "16 vCPU",
        "128 GB",
        3.00,
        ("RTX PRO 6000", 1, "96 GB"),
    ),
}
_MULTIPLE = re.compile(r"^(?P<base>.+?)x(?P<count>[0-9]+)$")


def _scaled(base: dict[str, Any], name: str, count: int) -> dict[str, Any]:
    """`base` times `count`: CPUs, RAM, GPUs, VRAM and price (a made-up but consistent spec)."""

    def times(text: str) -> str:
        number, _, unit = text.partition(" ")
        return f"{int(number) * count} {unit}"

    accelerator = base["accelerator"]
    gpu = None
    if accelerator is not None:
        gpu = (accelerator["model"], count, times(accelerator["vram"]))
    return _flavor(
        name,
        f"{count}x {base['prettyName'].removeprefix('1x ')}",
        times(base["cpu"]),
        times(base["ram"]),
        round(base["unitCostUSD"] * 60 * count, 2),
        gpu,
    )


def _spec(name: str) -> dict[str, Any]:
    if name in _KNOWN:
        return _KNOWN[name]
    if name in _MADE_UP:
        return _MADE_UP[name]
    multiple = _MULTIPLE.match(name)
    if multiple and multiple["base"] in _MADE_UP:
        return _scaled(_MADE_UP[multiple["base"]], name, int(multiple["count"]))
    return _flavor(name, name, "8 vCPU", "32 GB", 0.0)  # a flavour newer than this table


@functools.cache
def hardware_flavors() -> tuple[dict[str, Any], ...]:
    """`GET /api/spaces/hardware`: every flavour the installed client's `SpaceHardware` lists
    (spacectl.hub.SPACE_HARDWARE, synced from the Hub), with its spec and price."""
    # Imported when first needed: it loads huggingface_hub, which the sandbox's start need not.
    from spacectl.hub import SPACE_HARDWARE

    return tuple(_spec(name) for name in SPACE_HARDWARE)


def hardware_names() -> frozenset[str]:
    """The flavour names a Space may request."""
    return frozenset(f["name"] for f in hardware_flavors())


_NAME_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")


def repo_name_problem(name: str) -> str | None:
    """Why the Hub would refuse `name` as a repository name, or None if it is fine."""
    if not 1 <= len(name) <= 96:
        return "Repository name must be between 1 and 96 characters long"
    if not _NAME_CHARS.match(name):
        return "Repository name may only contain letters, digits, '-', '_' and '.'"
    if "--" in name or ".." in name:
        return "Repository name cannot contain '--' or '..'"
    if name[0] in "-." or name[-1] in "-.":
        return "Repository name cannot start or end with '-' or '.'"
    if name.endswith(".git"):
        return "Repository name cannot end with '.git'"
    return None


# Space templates (`GET /api/spaces/templates`, `create_repo(space_template=...)`): two of the
# Hub's, by the ids huggingface_hub's docstrings name. The files a new Space gets from one are
# MADE-UP minimal apps (the Hub copies the template repository, which the sandbox does not hold).
SPACE_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "name": "Streamlit",
        "repoId": "streamlit/streamlit-template-space",
        "sdk": "docker",
        "preferredPrivate": False,
        "files": {
            "Dockerfile": (
                "FROM python:3.13-slim\nWORKDIR /app\nCOPY requirements.txt ./\n"
                "RUN pip install --no-cache-dir -r requirements.txt\nCOPY src/ ./src/\n"
                "EXPOSE 8501\n"
                'ENTRYPOINT ["streamlit", "run", "src/streamlit_app.py", '
                '"--server.port=8501", "--server.address=0.0.0.0"]\n'
            ),
            "requirements.txt": "streamlit\n",
            "src/streamlit_app.py": 'import streamlit as st\n\nst.title("Hello")\n',
        },
    },
    {
        "name": "JupyterLab",
        "repoId": "SpacesExamples/jupyterlab",
        "sdk": "docker",
        "preferredPrivate": True,
        "files": {
            "Dockerfile": (
                "FROM python:3.13-slim\nRUN pip install --no-cache-dir jupyterlab\n"
                'EXPOSE 7860\nCMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=7860", '
                '"--no-browser", "--allow-root"]\n'
            ),
        },
    },
)
