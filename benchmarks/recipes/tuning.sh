#!/usr/bin/env bash
# One configuration of the paper's tuning (Section 5.4: H in {1, 2, 4, 8, 16}, N in {2, 4, 8, 16, 32}, d in
# {64, 128}) under the paper's protocol (eval_exclude_history: True, the amazon-* default): SASRecSeq with
# n_heads=H and hidden_size=D (shared by every FAME of that seed, H and D; skipped when its JSON exists), then FAME
# with N experts warm-started from it (compare.py's warm_start= takes the checkpoint and its backbone settings).
# Efficient mode as benchmarks/recipes/beauty_protocol.sh (each training sequence once, loss at every position,
# BATCH sequences per batch, about 256 targets on Beauty), early stopping after PATIENCE validations without a
# better NDCG@10, one thread per run. The configuration is selected on validation NDCG@10 only.
#   H=8 N=4 bash benchmarks/recipes/tuning.sh            one FAME (and its SASRec when missing)
#   H=4 N=1 bash benchmarks/recipes/tuning.sh            FAME w/o MoE at H=4
#   H=4 N=4 D=128 bash benchmarks/recipes/tuning.sh      d = 128 (inner_size 4 d, as at d = 64: 256)
#   H=4 N=4 PATIENCE=10 bash benchmarks/recipes/tuning.sh
#   H=4 N=0 bash benchmarks/recipes/tuning.sh            the SASRec only
# DATASET, SEED, OUT (results folder), SAVED (checkpoint folder), BATCH, PYTHON and EXTRA (more key=value
# settings for both runs) are parameters.
set -euo pipefail
source "$(dirname "$0")/common.sh"
OUT=${OUT:-results/$DATASET/tuning}
SAVED=${SAVED:-saved/$DATASET-tuning}
H=${H:-4}
N=${N:-4}
D=${D:-64}
PATIENCE=${PATIENCE:-5}
BATCH=${BATCH:-44}
EXTRA=${EXTRA:-}
COMMON="train_mode=sequence sequence_loss_weighting=target length_bucketing=True train_batch_size=$BATCH train_batch_unit=sequences epochs=200 stopping_step=$PATIENCE eval_exclude_history=True show_progress=False checkpoint_dir=$SAVED $EXTRA"
SUFFIX=""
[ "$PATIENCE" = 5 ] || SUFFIX=" p$PATIENCE"
SASREC="SASRec H$H d$D$SUFFIX"  # labels hold no ',' or '=' (compare.py's --models syntax)
compare() {
    nice -n 10 "$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$OUT" --seed="$SEED" --set $COMMON --models "$1"
}
compare "$SASREC=SASRecSeq:n_heads=$H,hidden_size=$D,inner_size=$((4 * D))"
if [ "$N" != 0 ]; then
    compare "FAME H$H N$N d$D$SUFFIX=FAME:num_experts=$N,warm_start=$SASREC"
fi
