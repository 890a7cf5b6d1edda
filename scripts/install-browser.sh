#!/usr/bin/env bash
# Installs Debian's Chromium for the browser end-to-end test (test/browser.test.ts), which
# skips itself when /usr/bin/chromium is absent, and the Vulkan loader (libvulkan1, without
# Mesa's Vulkan drivers) so Node's Dawn can also run on Chromium's SwiftShader: the one
# software adapter here with the `subgroups` feature, which the subgroup kernels' tests use
# (they skip themselves without it). Needs root and apt-get; safe to run again.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q "install ok installed" || need+=(libvulkan1)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-browser: missing ${need[*]}; install them as root (the browser and subgroup tests are skipped meanwhile)" >&2
  exit 0
fi
echo "install-browser: installing ${need[*]} (WebGPU on SwiftShader for the browser and subgroup tests)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
