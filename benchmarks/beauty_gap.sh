#!/usr/bin/env bash
# Looking for FAME's gap to the paper on Amazon Beauty (results/beauty/gap/): FAME warm-started from the
# same 4-head SASRecSeq checkpoint as in benchmarks/beauty.sh (run that first for the seed), one change at
# a time against "FAME (warm start)" there. Same protocol and efficient mode as beauty.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
SEED=${SEED:-2020}
COMMON="train_mode=sequence length_bucketing=True train_batch_size=128 epochs=200 stopping_step=5 checkpoint_dir=saved/beauty"
CKPT=$(python -c "import json; print(json.load(open('results/beauty/SASRecSeq__4_heads_-seed$SEED.json'))['checkpoint'])")
W="n_heads=4,facet_init=slice,pretrained_path=$CKPT"
python benchmarks/compare.py --dataset=amazon-beauty --out=results/beauty/gap --seed="$SEED" --set $COMMON --models "\
attention residual=FAME:$W,num_experts=4,attention_residual=True; \
probability mixing=FAME:$W,num_experts=4,head_mixing=probs; \
8 experts=FAME:$W,num_experts=8; \
normal W_f init=FAME:n_heads=4,num_experts=4,facet_init=normal,pretrained_path=$CKPT"
