#!/usr/bin/env bash
# Rebuilds the bundled model (models/default.safetensors) and prints every figure of its
# model card (models/README.md, models/default.json): the speaker-independent 5-fold
# cross-validation of the same training command, the model trained on all 10 speakers, and
# its cross-corpus scores on RAVDESS's 4 classes (read from $SER_DATA/ravdess4-16k or
# ../shared/data/ravdess4-16k; skipped with a message when absent).
# About 15 minutes on 2 cores with Mesa llvmpipe.
#   scripts/pretrained.sh [OUT_DIR]     (default: runs/pretrained; the model goes to OUT_DIR too)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/pretrained}
mkdir -p "$out"
train=(--corpus emodb --recipe paper --model small --eps 0.02 --iterations 100 --batch 16 --seed 7)

echo "== 5-fold speaker-independent cross-validation (one fold of 2 speakers held out at a time)"
node bin/ser.js sweep --corpus emodb --recipe paper --models small --eps 0.02 --iterations 100 --batch 16 --seed 7 \
  --test-eps 0.02,0.04,0.06,0.08,0.1 --pgd-eps 0.02 --noise-snr 20,10,0 --out "$out/cv" --quiet
node bin/ser.js report "$out/cv"

echo "== the model: the same training on all 10 speakers"
node bin/ser.js train "${train[@]}" --fold none --out "$out/default.safetensors" --quiet

ravdess=${SER_DATA:-../shared/data}/ravdess4-16k
if [ -d "$ravdess" ]; then
  echo "== cross-corpus: RAVDESS, 4 classes, every utterance"
  node bin/ser.js eval --checkpoint "$out/default.safetensors" --corpus "ravdess:$ravdess" --fold all \
    --fgsm-eps 0.02,0.1 --pgd-eps 0.02 --noise-snr 20
else
  echo "== cross-corpus: skipped, no RAVDESS at $ravdess"
fi
echo "model: $out/default.safetensors (copy it to models/default.safetensors to ship it)"
