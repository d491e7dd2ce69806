#!/usr/bin/env bash
# The bundled sentiment model, trained by tformer from scratch on SST-2:
# a 4-layer BERT (hidden 256, 4 heads, intermediate 1024, 11.3 M parameters,
# the real bert-base-uncased vocabulary), 2 epochs of ../shared/data/sst2/
# train.tsv with hidden and attention-probability dropout 0.1 (config.json),
# then written as bf16 into models/default and scored on dev.tsv.
#
#   bash recipes/sst2-bert-mini/train.sh            # from the repository root
#   RESUME=--resume bash recipes/sst2-bert-mini/train.sh   # after an interruption
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared}
OUT=${OUT:-build/sst2-bert-mini}
bash scripts/build.sh
./build/tformer train --config recipes/sst2-bert-mini/config.json \
  --train "$SHARED/data/sst2/train.tsv" --eval "$SHARED/data/sst2/dev.tsv" --out "$OUT" \
  --epochs 2 --lr 3e-4 --warmup-ratio 0.05 --batch-size 32 --max-length 64 --seed 42 \
  --log-every 100 --save-every 500 ${RESUME:-}
./build/tformer convert --model "$OUT" --out models/default --dtype bf16
./build/tformer eval --model models/default --data "$SHARED/data/sst2/dev.tsv"
