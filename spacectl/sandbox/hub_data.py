"""Static catalogues the sandbox serves: hardware flavours and repository name rules."""

from __future__ import annotations

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


HARDWARE_FLAVORS: list[dict[str, Any]] = [
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
    _flavor("a10g-large", "Nvidia A10G - large", "12 vCPU", "46 GB", 1.50, ("A10G", 1, "24 GB")),
    _flavor(
        "a10g-largex2", "2x Nvidia A10G - large", "24 vCPU", "92 GB", 3.00, ("A10G", 2, "48 GB")
    ),
    _flavor(
        "a10g-largex4", "4x Nvidia A10G - large", "48 vCPU", "184 GB", 5.00, ("A10G", 4, "96 GB")
    ),
    _flavor("a100-large", "Nvidia A100 - large", "12 vCPU", "142 GB", 2.50, ("A100", 1, "80 GB")),
    _flavor("a100x4", "4x Nvidia A100", "48 vCPU", "568 GB", 10.0, ("A100", 4, "320 GB")),
    _flavor("a100x8", "8x Nvidia A100", "96 vCPU", "1136 GB", 20.0, ("A100", 8, "640 GB")),
]
HARDWARE_NAMES = frozenset(f["name"] for f in HARDWARE_FLAVORS)

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
