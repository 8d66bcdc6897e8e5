"""The OpenClaw versions whose tool surface ClawGym reproduces, and which paper number each serves.

- ``2026.3.24`` (pi-coding-agent 0.61.1) produced the ClawGym SFT data: ``edit`` takes top-level
  ``oldText``/``newText`` (plus aliases) and refuses ``edits[]``. The default, so SFT parity and every
  earlier ClawGym result are unchanged.
- ``2026.4.1`` (pi 0.64.0) is the image ClawGym-RL ran: ``edit`` takes ``edits[]`` only (AJV rejects the
  legacy top-level form before OpenClaw could fold it), ``exec`` has a different schema and approval
  text, and the status card says 2026.4.1.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["DEFAULT_OPENCLAW_VERSION", "OPENCLAW_VERSIONS", "OpenClawVersion", "check_openclaw_version"]

OpenClawVersion = Literal["2026.3.24", "2026.4.1"]
OPENCLAW_VERSIONS: tuple[str, ...] = get_args(OpenClawVersion)
DEFAULT_OPENCLAW_VERSION: OpenClawVersion = "2026.3.24"


def check_openclaw_version(version: str) -> OpenClawVersion:
    """The version, or a ValueError naming the supported ones."""
    if version not in OPENCLAW_VERSIONS:
        raise ValueError(f"unknown openclaw_version {version!r}; supported: {', '.join(OPENCLAW_VERSIONS)}")
    return version  # type: ignore[return-value]
