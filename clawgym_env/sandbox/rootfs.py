"""The default sandbox root filesystem: one Debian bookworm tree, two isolation mechanisms.

``scripts/build_rootfs.sh`` (``clawgym sandbox build``) debootstraps it offline from Debian packages
(python3 + pytest/yaml/pip, ``python``, bash, git, jq, sqlite3, curl, ruby, zip, ...) into
``<dir>/bookworm-<hash>`` with a ``<dir>/bookworm`` link to it, and imports the same tree into docker
as ``clawgym/sandbox:bookworm-<hash>``, also tagged ``clawgym/sandbox:bookworm``. ``<hash>`` covers
the package list and recipe, so rebuilding with the same inputs does nothing.

- bwrap: ``SandboxConfig(root="default")`` binds ``default_rootfs()`` instead of the host's /usr.
- docker: ``ensure_image()`` returns the image tag, building/importing on first use.

``<dir>`` is ``$CLAWGYM_ROOTFS_DIR`` or ``/var/lib/clawgym/rootfs``; ``$CLAWGYM_ROOTFS`` names a
rootfs directory directly and wins over both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from clawgym_env.sandbox.base import SandboxError

SUITE = "bookworm"
IMAGE_REPO = "clawgym/sandbox"
IMAGE = f"{IMAGE_REPO}:{SUITE}"
"""The stable docker tag of the default sandbox image (the docker backend's default)."""
DEFAULT_ROOTFS_DIR = Path("/var/lib/clawgym/rootfs")
DEFAULT_ROOT = "default"
"""``SandboxConfig(root=DEFAULT_ROOT)`` means: the built rootfs, ``default_rootfs()``."""

_BUILD_HINT = "build it with `clawgym sandbox build` (scripts/build_rootfs.sh; root, Debian mirror access)"


def build_script() -> Path:
    """``scripts/build_rootfs.sh`` of this checkout (the package is installed editable)."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "build_rootfs.sh"
    if not path.is_file():
        raise SandboxError(f"{path} not found: building the rootfs needs a source checkout of ClawGym")
    return path


def rootfs_dir() -> Path:
    """Where built root filesystems live: ``$CLAWGYM_ROOTFS_DIR`` or /var/lib/clawgym/rootfs."""
    return Path(os.environ.get("CLAWGYM_ROOTFS_DIR") or DEFAULT_ROOTFS_DIR)


def rootfs_name() -> str:
    """``bookworm-<hash>`` for the package list in the current build script (nothing is built)."""
    out = subprocess.run(["bash", str(build_script()), "--print-name"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _is_rootfs(path: Path) -> bool:
    return (path / "usr" / "bin").is_dir()


def default_rootfs() -> Path:
    """The default sandbox root: ``$CLAWGYM_ROOTFS`` if set, else ``<rootfs_dir()>/bookworm``, resolved.

    Raises SandboxError (with how to build it) when there is none.
    """
    env = os.environ.get("CLAWGYM_ROOTFS")
    path = Path(env) if env else rootfs_dir() / SUITE
    if not _is_rootfs(path):
        origin = "$CLAWGYM_ROOTFS" if env else "the default sandbox rootfs"
        raise SandboxError(f"{origin} {path} is not a root filesystem (no usr/bin); {_BUILD_HINT}")
    return path.resolve()


def rootfs_info(root: Path | None = None) -> dict[str, object]:
    """The build record (``etc/clawgym-rootfs.json``: name, packages, built_at, ...) of a rootfs."""
    root = default_rootfs() if root is None else root
    try:
        return json.loads((root / "etc" / "clawgym-rootfs.json").read_text())
    except (OSError, ValueError):
        return {}


def resolve_root(root: str | os.PathLike[str] | None) -> Path | None:
    """What ``SandboxConfig.root`` means on the host: None (the host's own /usr), "default"
    (``default_rootfs()``) or a directory."""
    if root is None:
        return None
    if str(root) == DEFAULT_ROOT:
        return default_rootfs()
    return Path(root)


def build(*, dest: Path | None = None, image: bool = True, force: bool = False, mirror: str | None = None,
          quiet: bool = False) -> Path:
    """Run the build script (a no-op when the same rootfs/image exist) and return the rootfs path."""
    argv = ["bash", str(build_script())]
    if dest is not None:
        argv += ["--dest", str(dest)]
    if not image:
        argv.append("--no-image")
    if force:
        argv.append("--force")
    if mirror:
        argv += ["--mirror", mirror]
    res = subprocess.run(argv, capture_output=quiet, text=True, check=False)
    if res.returncode != 0:
        detail = f":\n{(res.stdout or '')[-2000:]}{(res.stderr or '')[-2000:]}" if quiet else ""
        raise SandboxError(f"scripts/build_rootfs.sh failed (exit {res.returncode}){detail}")
    return ((dest or rootfs_dir()) / SUITE).resolve()


def ensure_rootfs(*, build_if_missing: bool = True) -> Path:
    """``default_rootfs()``, building it first when it is missing and ``build_if_missing``."""
    try:
        return default_rootfs()
    except SandboxError:
        if not build_if_missing or os.environ.get("CLAWGYM_ROOTFS"):
            raise
    build(image=False, quiet=True)
    return default_rootfs()


def docker_available() -> bool:
    """Whether a docker CLI is installed and an engine answers."""
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def image_exists(tag: str = IMAGE) -> bool:
    try:
        return subprocess.run(["docker", "image", "inspect", tag], capture_output=True, timeout=30,
                              check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_image(*, build_if_missing: bool = True) -> str:
    """The default docker image tag, ``clawgym/sandbox:bookworm``, once it exists in the engine.

    If ``clawgym/sandbox:bookworm-<hash>`` for the current package list is missing, runs the build
    script (reuses the rootfs if built, then ``docker import``). Raises SandboxError when no docker
    engine answers, or when the image is missing and ``build_if_missing`` is false.
    """
    if not docker_available():
        raise SandboxError("no docker engine answers (`docker info` failed); start dockerd or use backend='bwrap'")
    if build_if_missing:
        try:
            pinned = f"{IMAGE_REPO}:{rootfs_name()}"
        except (SandboxError, OSError, subprocess.CalledProcessError):
            pinned = IMAGE  # no build script here: accept whatever the stable tag is
        if not image_exists(pinned) or not image_exists(IMAGE):
            build(image=True, quiet=True)
    if not image_exists(IMAGE):
        raise SandboxError(f"docker image {IMAGE} not found; {_BUILD_HINT}")
    return IMAGE
