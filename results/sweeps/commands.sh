#!/usr/bin/env bash
# The ml-100k sweep behind results/sweeps/*.png (run from the repository root, in .venv).
# One torch thread per run: on the shared 2-core machine it trained ~3x faster than two.
# stopping_step=15 = no early stop within the 15 epochs: FAME's validation NDCG@10 dips for a few epochs
# early on (about epochs 4-8 on ml-100k), so stopping_step=3 ended FAME runs there, before it learned.
set -euo pipefail
export OMP_NUM_THREADS=1
COMMON="--dataset=ml-100k --train_mode=sequence --train_batch_unit=sequences --epochs=15 --stopping_step=15 --hidden_size=64 --length_bucketing=True --state=INFO --show_progress=False"

# Figure 5: H for FAME w/o MoE (N = 1) and for SASRec (the plugin's SASRecSeq, trained in the same
# train_mode: sequence; RecBole's SASRec cannot train that way).
nice -n 10 python run_hyper.py --model=FAME $COMMON \
    --params_file=results/sweeps/ml-100k-FAME-noMoE.hyper --output_file=results/sweeps/ml-100k-FAME-noMoE.result
nice -n 10 python run_hyper.py --model=SASRecSeq $COMMON \
    --params_file=results/sweeps/ml-100k-SASRecSeq.hyper --output_file=results/sweeps/ml-100k-SASRecSeq.result

# Figure 6: N for FAME at the H that gave FAME w/o MoE its best validation NDCG@10.
BEST_H=$(python -c "import json; print(json.load(open('results/sweeps/ml-100k-FAME-noMoE.json'))['best_params']['n_heads'])")
printf 'n_heads choice [%s]\nnum_experts choice [2,4,8]\n' "$BEST_H" > results/sweeps/ml-100k-FAME.hyper
nice -n 10 python run_hyper.py --model=FAME $COMMON \
    --params_file=results/sweeps/ml-100k-FAME.hyper --output_file=results/sweeps/ml-100k-FAME.result

python -m benchmarks.plot_sweeps --fame results/sweeps/ml-100k-FAME.json \
    --fame_nomoe results/sweeps/ml-100k-FAME-noMoE.json --sasrec results/sweeps/ml-100k-SASRecSeq.json \
    --out results/sweeps/
