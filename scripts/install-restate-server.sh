#!/usr/bin/env bash
# Install the pinned real Restate Server from npm into .cache/restate-server/ inside the repo.
#
# Idempotent: when the wanted version is already installed it only prints the binary path.
# Override the version with RESTATE_SERVER_VERSION (default 1.7.12).
# Prints the path of the native binary on the last line of stdout.
set -euo pipefail

VERSION="${RESTATE_SERVER_VERSION:-1.7.12}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.cache/restate-server"
WRAPPER="$PREFIX/node_modules/.bin/restate-server"

installed_version() {
  # The package.json of the installed wrapper package holds the version npm resolved.
  local pkg="$PREFIX/node_modules/@restatedev/restate-server/package.json"
  [[ -f "$pkg" ]] || return 1
  sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$pkg" | head -n1
}

if [[ "$(installed_version || true)" != "$VERSION" || ! -x "$WRAPPER" ]]; then
  command -v npm >/dev/null || { echo "npm is required (apt-get install nodejs npm)" >&2; exit 1; }
  mkdir -p "$PREFIX"
  [[ -f "$PREFIX/package.json" ]] || echo '{"name":"restate-server-cache","private":true}' > "$PREFIX/package.json"
  echo "installing @restatedev/restate-server@$VERSION into $PREFIX" >&2
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
    "@restatedev/restate-server@$VERSION" >&2
fi

# The npm wrapper is a node script that spawns the platform binary; print the native one when present
# so the harness can signal the server itself rather than a node intermediary.
ARCH="$(uname -m)"
case "$ARCH" in x86_64) NODE_ARCH=x64 ;; aarch64|arm64) NODE_ARCH=arm64 ;; *) NODE_ARCH="$ARCH" ;; esac
NATIVE="$PREFIX/node_modules/@restatedev/restate-server-linux-$NODE_ARCH/bin/restate-server"
if [[ -x "$NATIVE" ]]; then
  "$NATIVE" --version >&2
  echo "$NATIVE"
else
  echo "$WRAPPER"
fi
