"""Which sandbox backends this machine can run, for tests parametrized over bwrap and docker."""

from __future__ import annotations

from functools import cache

import pytest


@cache
def docker_unavailable() -> str | None:
    """Why the docker backend cannot run here, or None when an engine answers."""
    try:
        import docker  # noqa: F401
    except ImportError:
        return "the docker SDK is not installed (pip install -e '.[docker]')"
    try:
        from clawgym_env.sandbox.docker import docker_client

        docker_client()
    except Exception as exc:  # noqa: BLE001 - any failure means: no engine to test against
        return f"no docker engine can be reached: {exc}"
    return None


BACKENDS = [
    pytest.param("bwrap", id="bwrap"),
    pytest.param("docker", id="docker",
                 marks=pytest.mark.skipif(docker_unavailable() is not None, reason=str(docker_unavailable()))),
]
