#!/usr/bin/env bash
# Build ClawGym's default sandbox root filesystem offline, from Debian packages only (no registry):
#
#   debootstrap --variant=minbase bookworm  +  python3, pytest, yaml, pip, `python`, git, jq, sqlite3,
#   curl, ruby, zip/unzip, ... (PACKAGES below)
#
# Output:
#   <dest>/bookworm-<hash>/      the rootfs (world-searchable: bwrap binds it as an unprivileged uid)
#   <dest>/bookworm -> bookworm-<hash>   what `SandboxConfig(root="default")` resolves
#   docker image clawgym/sandbox:bookworm-<hash>, also tagged clawgym/sandbox:bookworm
#     (skipped, with a message, when no docker engine answers)
# <hash> covers the suite, architecture, package list and recipe version, so a second run with the
# same inputs does nothing (CI calls this every run). Concurrent runs serialize on <dest>/.lock.
#
# Usage: scripts/build_rootfs.sh [--dest DIR] [--mirror URL] [--no-image] [--force] [--print-name]
#   --dest      default $CLAWGYM_ROOTFS_DIR or /var/lib/clawgym/rootfs
#   --mirror    default $CLAWGYM_DEBIAN_MIRROR or http://deb.debian.org/debian
#   --no-image  build the rootfs only (no docker import)
#   --force     rebuild even if a rootfs with the same hash exists
#   --print-name  print bookworm-<hash> and exit (nothing is built)
# Needs root (debootstrap), debootstrap, and network access to the Debian mirror.
set -euo pipefail

SUITE=bookworm
RECIPE_VERSION=1   # bump when the steps below change what ends up in the rootfs
PACKAGES=(
  python3 python3-pytest python3-yaml python-is-python3 python3-pip python3-venv
  bash coreutils findutils grep sed gawk diffutils file less
  git jq sqlite3 curl ca-certificates openssl ruby
  tar gzip bzip2 xz-utils zip unzip locales procps
)
IMAGE_REPO=clawgym/sandbox

dest=${CLAWGYM_ROOTFS_DIR:-/var/lib/clawgym/rootfs}
mirror=${CLAWGYM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
make_image=1
force=0
print_name=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    --no-image) make_image=0; shift ;;
    --force) force=1; shift ;;
    --print-name) print_name=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "build_rootfs.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
hash=$(printf '%s\n' "$SUITE" "$arch" "$RECIPE_VERSION" "${PACKAGES[@]}" | sha256sum | cut -c1-12)
name="$SUITE-$hash"
if [ "$print_name" = 1 ]; then echo "$name"; exit 0; fi

say() { echo "build_rootfs: $*"; }
t0=$(date +%s)
[ "$(id -u)" = 0 ] || { echo "build_rootfs.sh: must run as root (debootstrap needs it)" >&2; exit 1; }

mkdir -p "$dest"
# bwrap runs as an unprivileged uid: every folder down to the rootfs must be searchable by others.
p=$dest
while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
chmod 755 "$dest"
target="$dest/$name"

exec 9>"$dest/.lock"
flock 9

if [ "$force" = 1 ] && [ -d "$target" ]; then
  say "--force: removing $target"
  rm -rf "$target"
fi

if [ -f "$target/etc/clawgym-rootfs.json" ]; then
  say "rootfs $target exists (same package list), reusing it"
else
  command -v debootstrap >/dev/null || {
    echo "build_rootfs.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  tmp="$dest/.build-$name-$$"
  rm -rf "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  include=$(IFS=,; echo "${PACKAGES[*]}")
  say "debootstrap --variant=minbase $SUITE from $mirror (+ ${#PACKAGES[@]} packages) into $tmp"
  # Without the apt cache of a previous build, this downloads ~100 MB from the mirror.
  if ! debootstrap --variant=minbase --include="$include" --components=main "$SUITE" "$tmp" "$mirror" \
      >"$dest/.debootstrap-$name.log" 2>&1; then
    echo "build_rootfs.sh: debootstrap failed; last lines of $dest/.debootstrap-$name.log:" >&2
    tail -n 25 "$dest/.debootstrap-$name.log" >&2
    exit 1
  fi
  mv "$dest/.debootstrap-$name.log" "$tmp/var/log/clawgym-debootstrap.log" 2>/dev/null || true

  say "configuring and trimming"
  # pip installs into the system python (the agent is root in a throwaway sandbox), like the
  # OpenClaw RL image (EXTERNALLY-MANAGED removed).
  rm -f "$tmp"/usr/lib/python3*/EXTERNALLY-MANAGED
  # Keep docs, man pages and translations out of later `apt-get install`s too.
  cat >"$tmp/etc/dpkg/dpkg.cfg.d/01-clawgym-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  find "$tmp/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$tmp/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$tmp"/usr/share/man/* "$tmp"/usr/share/info/* "$tmp"/usr/share/locale/* "$tmp"/usr/share/lintian/*
  rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/cache/apt/*.bin "$tmp"/var/lib/apt/lists/*
  rm -rf "$tmp"/var/cache/debconf/*-old "$tmp"/var/log/apt/* "$tmp"/tmp/* "$tmp"/var/tmp/*
  find "$tmp/usr/lib" -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
  # C.UTF-8 ships with libc-bin; make it the default.
  printf 'LANG=C.UTF-8\n' >"$tmp/etc/default/locale"
  # Apt inside the sandbox (online users): same mirror, the security suite too.
  cat >"$tmp/etc/apt/sources.list" <<EOF
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF
  # The workspace path verifiers hard-code (the docker backend mounts over it).
  mkdir -p "$tmp/root/.openclaw/workspace"
  # Reproducible-enough identity for tools and tests.
  printf 'clawgym\n' >"$tmp/etc/hostname"
  # Everything readable by the unprivileged sandbox uid (debootstrap keeps Debian's modes; this is
  # only a safety net for files a umask made private).
  chmod 755 "$tmp"
  {
    printf '{"name": "%s", "suite": "%s", "arch": "%s", "recipe_version": %s, "mirror": "%s", ' \
      "$name" "$SUITE" "$arch" "$RECIPE_VERSION" "$mirror"
    printf '"built_at": "%s", "packages": [' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    sep=""; for pkg in "${PACKAGES[@]}"; do printf '%s"%s"' "$sep" "$pkg"; sep=", "; done
    printf ']}\n'
  } >"$tmp/etc/clawgym-rootfs.json"
  mv -T "$tmp" "$target"
  trap - EXIT
  say "built $target in $(( $(date +%s) - t0 )) s"
fi

# <dest>/bookworm -> bookworm-<hash>, swapped atomically.
ln -sfn "$name" "$dest/.$SUITE.$$"
mv -T "$dest/.$SUITE.$$" "$dest/$SUITE"

size=$(du -sh "$target" 2>/dev/null | cut -f1)
say "rootfs: $target ($size)"

if [ "$make_image" = 1 ]; then
  if ! command -v docker >/dev/null 2>&1; then
    say "docker CLI not installed: skipping the docker image (rootfs is ready for bwrap)"
  elif ! docker info >/dev/null 2>&1; then
    say "no docker engine answers (docker info failed): skipping the docker image (rootfs is ready for bwrap)"
  else
    tag="$IMAGE_REPO:$name"
    if docker image inspect "$tag" >/dev/null 2>&1; then
      say "image $tag exists, reusing it"
    else
      say "docker import -> $tag"
      tar -C "$target" --numeric-owner -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV HOME=/root' \
        --change 'WORKDIR /root/.openclaw/workspace' \
        --change 'CMD ["/bin/bash"]' \
        --change "LABEL org.clawgym.rootfs=$name" \
        - "$tag" >/dev/null
    fi
    docker tag "$tag" "$IMAGE_REPO:$SUITE"
    isize=$(docker image inspect -f '{{.Size}}' "$tag" 2>/dev/null || echo 0)
    say "image: $tag (also $IMAGE_REPO:$SUITE), $(( isize / 1000000 )) MB"
  fi
fi
say "done in $(( $(date +%s) - t0 )) s"
