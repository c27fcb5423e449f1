#!/usr/bin/env bash
# Make sure the Chromium the browser tests drive is installed: Debian's package, because
# Playwright's own browser download needs a site the test machines cannot reach.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
  echo "browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM") is installed"
  exit 0
fi

missing() {
  echo "browser: $CHROMIUM is missing and could not be installed: $1" >&2
  echo "         Install Debian's package by hand (apt-get install chromium); until then" >&2
  echo "         the browser tests are skipped (and fail under CI)." >&2
  exit 1
}

if ! command -v apt-get >/dev/null; then
  missing "there is no apt-get on this machine"
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  missing "installing needs root, and sudo is missing or asks for a password"
fi

apt_get() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q "$@"
}

echo "browser: installing Debian's chromium"
# The package lists may be stale or absent (a fresh machine): refresh them and try once more.
if ! apt_get install -y --no-install-recommends chromium; then
  echo "browser: the install failed; refreshing the package lists and trying again"
  apt_get update || missing "apt-get update failed"
  apt_get install -y --no-install-recommends chromium || missing "apt-get install chromium failed"
fi
[ -x "$CHROMIUM" ] || missing "the chromium package did not provide $CHROMIUM"
echo "browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM") is installed"
