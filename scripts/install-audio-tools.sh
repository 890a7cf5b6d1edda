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
bash "$(dirname "$0")/apt-install.sh" install-audio-tools "encoders for the audio decoding tests; the codec tests skip without them" "${need[@]}"
