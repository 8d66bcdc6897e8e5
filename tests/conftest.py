"""Shared fixtures. Everything here is real: bwrap sandboxes, real task folders from ../shared."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Iterator

import pytest

from clawgym_env.sandbox import ServerSandbox, make_sandbox

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRAIN = SHARED / "datasets" / "clawgym-train"


# In CI (.ci/run sets CLAWGYM_STRICT_SKIPS=1) a skip is a failure unless it names something this
# kind of machine cannot have: a GPU or a hosted model. Everything else (docker, bwrap, the rootfs,
# the [train]/[verl]/[ray] extras) .ci/run installs, so a skip there means a broken install step.
_ALLOWED_SKIP = re.compile(r"\bGPUs?\b|\bCUDA\b|hosted model", re.IGNORECASE)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CLAWGYM_STRICT_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    bad = []
    for rep in skipped:
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        if not _ALLOWED_SKIP.search(reason):
            bad.append(f"{rep.nodeid}: {reason}")
    if bad:
        lines = "\n  ".join(bad[:50])
        sys.stderr.write(f"\nCLAWGYM_STRICT_SKIPS: {len(bad)} test(s) skipped that this machine can run:\n  {lines}\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"bwrap: {shutil.which('bwrap')}", f"shared datasets: {TRAIN if TRAIN.is_dir() else 'MISSING'}"]


@pytest.fixture
def sandbox_backend() -> str:
    """The backend of the ``sandbox`` fixture. tests/test_docker_sandbox.py overrides it with
    "docker" and re-collects the backend-agnostic tests, so they run on both backends."""
    return "bwrap"


@pytest.fixture
def sandbox(sandbox_backend: str) -> Iterator[ServerSandbox]:
    """A started sandbox (bwrap unless ``sandbox_backend`` says otherwise) with an empty workspace,
    closed after the test."""
    sb = make_sandbox(sandbox_backend)
    sb.start()
    try:
        yield sb
    finally:
        sb.close()


@pytest.fixture(scope="session")
def train_dir() -> Path:
    if not TRAIN.is_dir():
        pytest.fail(f"the shared ClawGym train split is missing at {TRAIN}; CI places ../shared beside the repo")
    return TRAIN


@pytest.fixture(scope="session")
def oracle_records_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """records.jsonl of 100 real oracle rollouts of built-in tasks (bwrap sandboxes, real verifier),
    made once per session by ``clawgym eval`` for the SFT tests."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("oracle100")
    proc = subprocess.run([sys.executable, "-m", "clawgym_env.cli", "eval", "--suite", "builtin", "--agent", "oracle",
                           "--limit", "100", "--concurrency", "4", "--out", str(out)],
                          check=False, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out / "records.jsonl"
