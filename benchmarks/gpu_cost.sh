#!/usr/bin/env bash
# FAME's cost on a lent GPU (one call of the device tool, about two minutes): cost.py's grid of H and N with
# 1,000 users per full sort, the same at H = 4, N = 4 with RecBole's default 4,096 users per evaluation batch,
# and profile_cost.py's account of where the time goes at H = 4, N = 4. Run it with the machine's own torch
# and RecBole's wheels on the path, as benchmarks/beauty_gpu.sh says.
#   bash benchmarks/gpu_cost.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
python benchmarks/cost.py --dataset=amazon-beauty --steps=50 --infer_repeats=30 --out=results/cost_gpu.md
python benchmarks/cost.py --dataset=amazon-beauty --heads=4 --experts=4 --steps=50 --infer_repeats=30 \
    --eval_users=4096 --out=results/cost_gpu_4096_users.md
python benchmarks/profile_cost.py --dataset=amazon-beauty --out=results/profile_gpu.md
