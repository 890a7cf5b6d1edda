#!/usr/bin/env bash
# apt-install.sh WHO WHY PACKAGE...: installs Debian packages that are missing, as root with
# apt-get; elsewhere it says what is missing and why it matters, and carries on. The package
# lists are updated once per hour at most, so setup's several installers update them once.
set -euo pipefail
who=$1 why=$2
shift 2
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "$who: missing $*; install them as root with apt-get ($why)" >&2
  exit 0
fi
echo "$who: installing $* ($why)"
export DEBIAN_FRONTEND=noninteractive
stamp=${TMPDIR:-/tmp}/ser-apt-lists-updated
if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +60)" ]; then
  apt-get update -qq >/dev/null
  touch "$stamp"
fi
apt-get install -y -qq --no-install-recommends "$@" >/dev/null
