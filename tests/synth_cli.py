"""Run ``clawgym synth-llm`` as a real process and SIGKILL it midway: the resume tests' common part."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from clawgym_env.synth.llm.stages import read_records

REPO = Path(__file__).resolve().parents[1]


def synth_cli(*args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run this checkout's ``clawgym synth-llm ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return [sys.executable, "-m", "clawgym_env.cli", "synth-llm", *args], env


def kill_midway(cmd: list[str], env: dict[str, str], watch: Path, *, at_least: int = 2,
                timeout_s: float = 60.0) -> None:
    """Start ``cmd`` and SIGKILL it once the stage file ``watch`` holds ``at_least`` records."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(read_records(watch)) < at_least:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
