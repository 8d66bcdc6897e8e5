"""Shared fixtures. Everything here is real: bwrap sandboxes, real task folders from ../shared."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from clawgym_env.sandbox import ServerSandbox, make_sandbox

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRAIN = SHARED / "datasets" / "clawgym-train"


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"bwrap: {shutil.which('bwrap')}", f"shared datasets: {TRAIN if TRAIN.is_dir() else 'MISSING'}"]


@pytest.fixture
def sandbox() -> Iterator[ServerSandbox]:
    """A started bwrap sandbox with an empty workspace, closed after the test."""
    sb = make_sandbox("bwrap")
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
