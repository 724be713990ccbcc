#!/usr/bin/env bash
# The spread of the README's first command (python run_recbole_fame.py --model=FAME --dataset=ml-100k: FAME's
# defaults and ml-100k's yaml, 15 epochs) over seeds and thread counts (results/ml-100k/quickstart/). Summing
# in another order (another thread count) or drawing other initial weights and batches (another seed) changes
# the weights a little, and ml-100k's 943 test users turn that into a visible change of the test metrics.
# torch uses one thread per core unless OMP_NUM_THREADS says otherwise; THREADS lists the counts tried.
# One run at a time, niced. Runs whose JSON exists are not repeated.
#   bash benchmarks/recipes/quickstart_spread.sh
# DATASET (another dataset with its own yaml), SEEDS, THREADS, OUT (results folder) and PYTHON are parameters.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
DATASET=${DATASET:-ml-100k}
SEEDS=${SEEDS:-2020 2021 2022}
THREADS=${THREADS:-1 2}
OUT=${OUT:-results/$DATASET/quickstart}
for SEED in $SEEDS; do
    for T in $THREADS; do
        OMP_NUM_THREADS=$T nice -n 10 "$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$OUT" --seed="$SEED" \
            --models "FAME $T thread=FAME"
    done
done
rm -f "$OUT"/table-seed*.md  # compare's per-call tables hold one run each; the table below holds them all
"$PYTHON" -m benchmarks.quickstart_table "$OUT"/FAME_*_thread-seed*.json --out "$OUT/table.md"
