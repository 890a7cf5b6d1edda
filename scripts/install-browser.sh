#!/usr/bin/env bash
# Installs Debian's Chromium for the browser end-to-end test (test/browser.test.ts), which
# skips itself when /usr/bin/chromium is absent. Needs root and apt-get; safe to run again.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-browser: /usr/bin/chromium is missing; install Debian's 'chromium' package as root (the browser test is skipped meanwhile)" >&2
  exit 0
fi
echo "install-browser: installing chromium (headless WebGPU on SwiftShader for the browser test)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
