#!/usr/bin/env bash
# Where the text pre-training should pay, under the paper's protocol (eval_exclude_history: True), efficient mode
# as benchmarks/recipes/tuning.sh, one thread per run. Runs whose JSON exists are skipped.
#   STREAM=pretrain  FAMETextPretrain on the items' text and facets, early-stopped on held-out items (its
#                    validation_items default, 0.1: the facet report is on those items too)
#   STREAM=start     FAME from the text pre-training (item embeddings and facet projections)
#   STREAM=pipeline  the extension's pipeline: SASRecSeq from the text item embeddings, then FAME warm-started
#                    from that SASRecSeq (its lower layers trained on the embeddings FAME starts from)
#   STREAM=residual  FAME from the text pre-training with text_item_embedding: residual (the text embedding kept,
#                    frozen, plus a learned item embedding from 0)
#   STREAM=anchor    FAME from the text pre-training with text_anchor: $ANCHOR (a pull towards the pre-trained
#                    item vectors and facet projections)
# e.g. SEED=2020 H=4 STREAM=pretrain bash benchmarks/recipes/text.sh, then STREAM=start, pipeline, ...
# DATASET, SEED, H, N, D, BATCH, PATIENCE, ANCHOR, OUT (results folder), SAVED (checkpoints) and PYTHON are
# parameters; the plain SASRec and FAME warm-started from it of the same seed and H come from
# benchmarks/recipes/tuning.sh (or selected.sh).
set -euo pipefail
source "$(dirname "$0")/common.sh"
H=${H:-4}
N=${N:-4}
D=${D:-64}
BATCH=${BATCH:-44}
PATIENCE=${PATIENCE:-5}
ANCHOR=${ANCHOR:-1.0}
OUT=${OUT:-results/$DATASET/text}
SAVED=${SAVED:-saved/$DATASET-text}
STREAM=${STREAM:-pretrain}
COMMON="train_mode=sequence sequence_loss_weighting=target length_bucketing=True train_batch_size=$BATCH train_batch_unit=sequences epochs=200 stopping_step=$PATIENCE eval_exclude_history=True show_progress=False checkpoint_dir=$SAVED n_heads=$H hidden_size=$D inner_size=$((4 * D))"
compare() {
    nice -n 10 "$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$OUT" --seed="$SEED" --set $COMMON --models "$1"
}
checkpoint() {  # the best checkpoint of a finished run of this seed
    "$PYTHON" -c "import json, sys; print(json.load(open(sys.argv[1]))['checkpoint'])" "$OUT/$1-seed$SEED.json"
}
PRETRAIN="FAMETextPretrain H$H d$D"
case $STREAM in
    pretrain)
        compare "$PRETRAIN=FAMETextPretrain:train_mode=prefix,length_bucketing=False"
        ;;
    start)
        compare "FAME text start H$H N$N d$D=FAME:num_experts=$N,text_pretrained_path=$(checkpoint "${PRETRAIN// /_}")"
        ;;
    pipeline)
        compare "SASRec text start H$H d$D=SASRecSeq:text_pretrained_path=$(checkpoint "${PRETRAIN// /_}")"
        compare "FAME text pipeline H$H N$N d$D=FAME:num_experts=$N,warm_start=SASRec text start H$H d$D"
        ;;
    residual)
        compare "FAME text residual H$H N$N d$D=FAME:num_experts=$N,text_item_embedding=residual,text_pretrained_path=$(checkpoint "${PRETRAIN// /_}")"
        ;;
    anchor)
        compare "FAME text anchor $ANCHOR H$H N$N d$D=FAME:num_experts=$N,text_anchor=$ANCHOR,text_pretrained_path=$(checkpoint "${PRETRAIN// /_}")"
        ;;
    *) echo "STREAM is pretrain, start, pipeline, residual or anchor, not $STREAM" >&2; exit 2 ;;
esac
