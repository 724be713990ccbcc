#!/usr/bin/env bash
# Beauty in the sequence mode with 44 sequences per batch (~256 targets and ~512 updates per epoch, as RecBole's
# prefix mode with batch size 256; see benchmarks/beauty_modes.sh) instead of beauty.sh's 128: the 4-head
# SASRecSeq and FAME warm-started from it, plain (the paper's equations) and with attention_residual.
# Results in results/beauty/batch44/; otherwise the protocol of beauty.sh.
#   SEED=2020 bash benchmarks/beauty_batch44.sh       (RUNS="base", "fame" or "residual" runs a part; the
#                                                      FAME runs need the base run's checkpoint)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
SEED=${SEED:-2020}
RUNS=${RUNS:-"base fame residual"}
OUT=results/beauty/batch44
COMMON="train_mode=sequence length_bucketing=True train_batch_size=44 epochs=200 stopping_step=5 checkpoint_dir=saved/beauty"
compare() {
    python benchmarks/compare.py --dataset=amazon-beauty --out=$OUT --seed="$SEED" --set $COMMON --models "$1"
}
BASE="SASRecSeq (4 heads)=SASRecSeq:n_heads=4"
for run in $RUNS; do
    if [ "$run" = base ]; then compare "$BASE"; continue; fi
    CKPT=$(python -c "import json; print(json.load(open('$OUT/SASRecSeq__4_heads_-seed$SEED.json'))['checkpoint'])")
    W="n_heads=4,num_experts=4,facet_init=slice,pretrained_path=$CKPT"
    case $run in
        fame) compare "$BASE; FAME (warm start)=FAME:$W" ;;
        residual) compare "$BASE; FAME attention residual (warm start)=FAME:$W,attention_residual=True" ;;
        *) echo "RUNS takes base, fame and residual, not $run" >&2; exit 2 ;;
    esac
done
