#!/usr/bin/env bash
# FAME's cost on a lent GPU (one call of the device tool, about two minutes): cost.py's grid of H and N with
# 1,000 users per full sort, the same at H = 4, N = 4 with RecBole's default 4,096 users per evaluation batch,
# and profile_cost.py's account of where the time goes at H = 4, N = 4. Run it with the machine's own torch
# and RecBole's wheels on the path, as benchmarks/recipes/beauty_gpu.sh says.
#   bash benchmarks/recipes/gpu_cost.sh
# Parameters (environment): DATASET (default amazon-beauty), RESULTS (default results), PYTHON (default
# .venv/bin/python; on the lent GPU the machine's python3).
set -uo pipefail
source "$(dirname "$0")/common.sh"
RESULTS=${RESULTS:-results}
"$PYTHON" -m benchmarks.cost --dataset="$DATASET" --steps=50 --infer_repeats=30 --out="$RESULTS/cost_gpu.md"
"$PYTHON" -m benchmarks.cost --dataset="$DATASET" --heads=4 --experts=4 --steps=50 --infer_repeats=30 \
    --eval_users=4096 --out="$RESULTS/cost_gpu_4096_users.md"
"$PYTHON" -m benchmarks.profile_cost --dataset="$DATASET" --out="$RESULTS/profile_gpu.md"
