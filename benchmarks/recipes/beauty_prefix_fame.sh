#!/usr/bin/env bash
# FAME trained on RecBole's prefix samples, where SASRec does best on Beauty (results/beauty/modes/): warm-started
# from the same seed's "SASRecSeq (prefix mode)" checkpoint of benchmarks/recipes/beauty_modes.sh (run that first). That
# SASRec has RecBole's default 2 heads and the warm start needs the same n_heads, so FAME has H = 2 (the paper
# searches H in {1, 2, 4, 8, 16}), N = 4. Prefix samples, batch size 256, batches bucketed by length, early
# stopping after 5 epochs without a better validation NDCG@10, one thread. Results in results/beauty/modes/.
#   SEED=2020 bash benchmarks/recipes/beauty_prefix_fame.sh    (RUNS="residual", "fame", "residual_sequence",
#       "fame_sequence", "nomoe_sequence", "probs_sequence" or "n16_sequence" runs one)
# Parameters (environment): DATASET, SEED, RESULTS (results folder), SAVED (checkpoint folder), PYTHON
# (default .venv/bin/python); the defaults are the Beauty runs'. Results in $RESULTS/modes.
# (44 sequences per batch in the sequence-mode runs: train_batch_unit=sequences.)
set -euo pipefail
source "$(dirname "$0")/common.sh"
RESULTS=${RESULTS:-results/beauty}
SAVED=${SAVED:-saved/beauty}
RUNS=${RUNS:-"residual fame"}
OUT=$RESULTS/modes
CKPT=$("$PYTHON" -c "import json; print(json.load(open('$OUT/SASRecSeq__prefix_mode_-seed$SEED.json'))['checkpoint'])")
W="n_heads=2,num_experts=4,facet_init=slice,pretrained_path=$CKPT"
MODELS="SASRecSeq (prefix mode)=SASRecSeq:n_heads=2"
for run in $RUNS; do
    case $run in
        residual) MODELS="$MODELS; FAME H2 N4 attention residual (warm start, prefix mode)=FAME:$W,attention_residual=True" ;;
        fame) MODELS="$MODELS; FAME H2 N4 (warm start, prefix mode)=FAME:$W" ;;
        # the same FAME in the sequence mode, 44 sequences per batch, every target weighed as in the prefix mode
        residual_sequence) MODELS="$MODELS; FAME H2 N4 attention residual (warm start, sequence mode)=FAME:$W,attention_residual=True,train_mode=sequence,train_batch_size=44,train_batch_unit=sequences,sequence_loss_weighting=target" ;;
        fame_sequence) MODELS="$MODELS; FAME H2 N4 (warm start, sequence mode)=FAME:$W,train_mode=sequence,train_batch_size=44,train_batch_unit=sequences,sequence_loss_weighting=target" ;;
        # the paper's "FAME w/o MoE": one query expert per head
        nomoe_sequence) MODELS="$MODELS; FAME w/o MoE H2 (warm start, sequence mode)=FAME:$W,num_experts=1,train_mode=sequence,train_batch_size=44,train_batch_unit=sequences,sequence_loss_weighting=target" ;;
        # the paper's other reading of Eq. 11 (mix the heads' softmax distributions), and N = 16 query experts
        probs_sequence) MODELS="$MODELS; FAME H2 N4 head_mixing probs (warm start, sequence mode)=FAME:$W,head_mixing=probs,train_mode=sequence,train_batch_size=44,train_batch_unit=sequences,sequence_loss_weighting=target" ;;
        n16_sequence) MODELS="$MODELS; FAME H2 N16 (warm start, sequence mode)=FAME:$W,num_experts=16,train_mode=sequence,train_batch_size=44,train_batch_unit=sequences,sequence_loss_weighting=target" ;;
        *) echo "RUNS takes residual, fame, residual_sequence, fame_sequence, nomoe_sequence, probs_sequence and n16_sequence, not $run" >&2; exit 2 ;;
    esac
done
"$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$OUT" --seed="$SEED" \
    --set train_mode=prefix length_bucketing=True train_batch_size=256 epochs=200 stopping_step=5 checkpoint_dir="$SAVED" \
    --models "$MODELS"
DATASET="$DATASET" SEED="$SEED" RESULTS="$RESULTS" PYTHON="$PYTHON" bash benchmarks/recipes/beauty_modes_table.sh
