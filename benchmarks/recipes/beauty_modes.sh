#!/usr/bin/env bash
# Issue 5, efficient mode: the same model trained on RecBole's prefix samples and in the sequence mode, to
# compare them at convergence. The model is SASRecSeq with RecBole's default 2 heads, which in prefix mode *is*
# RecBole's SASRec with CE loss (tests/test_sequence_mode.py checks loss and scores are SASRec's).
#   prefix:   RecBole's prefix samples, RecBole's batch size 256 (the paper's): 514 updates per epoch.
#   sequence: each training sequence once, loss at every position, 44 sequences per batch: Beauty's 22,512
#             training sequences hold 131,413 targets (5.8 per sequence), so 44 sequences carry ~256 targets
#             and an epoch makes ~512 updates, as in the prefix mode. With sequence_loss_weighting 'batch' (the
#             mean over each batch's positions) or 'target' (every target weighs the same, as in the prefix
#             mode; see recbole_fame/model/sequence_loss.py).
# Both bucket batches by length, so that each batch is trimmed to its longest sequence (padding cannot change
# a score; this is what makes the prefix run affordable on a 2-core CPU). Early stopping after 5 epochs
# without a better validation NDCG@10, one thread. The sequence-mode runs of benchmarks/recipes/beauty.sh (128
# sequences per batch, ~750 targets and 88 updates per epoch) are the third point of comparison.
#   SEED=2021 bash benchmarks/recipes/beauty_modes.sh        (RUNS="prefix", "sequence" or "target" runs one)
# Results in results/beauty/modes/.
# Parameters (environment): DATASET, SEED, RESULTS (results folder), SAVED (checkpoint folder), PYTHON
# (default .venv/bin/python); the defaults are the Beauty runs'. Results in $RESULTS/modes.
# (44 sequences per batch: train_batch_unit=sequences; the default unit, targets, makes 256 the same batch.)
set -euo pipefail
source "$(dirname "$0")/common.sh"
RESULTS=${RESULTS:-results/beauty}
SAVED=${SAVED:-saved/beauty}
RUNS=${RUNS:-"prefix sequence target"}
PREFIX="SASRecSeq (prefix mode)=SASRecSeq:n_heads=2,train_mode=prefix,train_batch_size=256"
SEQUENCE="SASRecSeq (sequence mode, 44 per batch)=SASRecSeq:n_heads=2,train_mode=sequence,train_batch_size=44,train_batch_unit=sequences,sequence_loss_weighting=batch"
TARGET="SASRecSeq (sequence mode, 44 per batch, target weighting)=SASRecSeq:n_heads=2,train_mode=sequence,train_batch_size=44,train_batch_unit=sequences,sequence_loss_weighting=target"
MODELS=""
for run in $RUNS; do
    case $run in
        prefix) MODELS="$MODELS; $PREFIX" ;;
        sequence) MODELS="$MODELS; $SEQUENCE" ;;
        target) MODELS="$MODELS; $TARGET" ;;
        *) echo "RUNS takes prefix, sequence and target, not $run" >&2; exit 2 ;;
    esac
done
"$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$RESULTS/modes" --seed="$SEED" \
    --set length_bucketing=True epochs=200 stopping_step=5 checkpoint_dir="$SAVED" \
    --models "${MODELS#; }"
DATASET="$DATASET" SEED="$SEED" RESULTS="$RESULTS" PYTHON="$PYTHON" bash benchmarks/recipes/beauty_modes_table.sh
