#!/usr/bin/env bash
# Installs Debian's audio encoders (flac, lame, oggenc, opusenc) that test/decode.test.ts uses
# to make FLAC, MP3, Ogg Vorbis and Ogg Opus files from a generated signal (its tests skip,
# with a message, where one is missing). Run by `setup.sh --with-browser`; needs root and
# apt-get; safe to run again.
set -euo pipefail
need=()
for pkg in flac lame vorbis-tools opus-tools; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-audio-tools: missing ${need[*]}; install them as root (the codec tests are skipped meanwhile)" >&2
  exit 0
fi
echo "install-audio-tools: installing ${need[*]} (encoders for the audio decoding tests)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
