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
