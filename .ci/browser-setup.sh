#!/usr/bin/env bash
# Installs Debian's Chromium for the viewer's browser tests (playwright-core downloads no
# browser, and its own download cannot work here). Does nothing when it is already there.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    echo "browser-setup: $CHROMIUM is missing and this user cannot install packages (not root, no sudo)" >&2
    exit 1
  fi
fi

echo "browser-setup: installing chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq >/tmp/browser-setup.log 2>&1 ||
  ! $SUDO apt-get install -y -qq --no-install-recommends chromium >>/tmp/browser-setup.log 2>&1; then
  echo "browser-setup: FAILED to install chromium; the last lines of /tmp/browser-setup.log:" >&2
  tail -n 20 /tmp/browser-setup.log >&2
  exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "browser-setup: apt-get finished but $CHROMIUM is still missing" >&2
  exit 1
fi
echo "browser-setup: $("$CHROMIUM" --version 2>/dev/null || echo chromium installed)" >&2
