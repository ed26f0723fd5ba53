#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through playwright-core (no browser download: the
# machines reach only the npm registry and Debian). Installs it when missing; `npm test` runs this
# first, so the README's test command works on a fresh machine, and CI uses the same step.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "installing Debian's chromium for the browser tests" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2
fi
test -x "$chromium"
