#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: bubblewrap and slirp4netns (network=True) from apt,
# this package from pip.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v bwrap >/dev/null || ! command -v slirp4netns >/dev/null || [ ! -x /usr/bin/python3 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq bubblewrap slirp4netns python3 >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e .
