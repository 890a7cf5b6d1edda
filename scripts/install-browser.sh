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
bash "$(dirname "$0")/apt-install.sh" install-browser "WebGPU on SwiftShader for the browser and subgroup tests; they skip without it" "${need[@]}"
