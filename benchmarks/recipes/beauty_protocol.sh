#!/usr/bin/env bash
# The paper's Table 2 protocol on one dataset, trained and selected under the S3-Rec lineage's evaluation
# (eval_exclude_history: True, every earlier item of the user hidden when ranking; the amazon-* default).
# Efficient mode (each training sequence once, loss at every position, every target weighed as a prefix sample
# is, batches bucketed by length; 44 sequences ~ 256 targets per batch on Beauty), early stopping after 5
# validations without a better NDCG@10, one thread per run. Runs whose JSON exists are skipped.
#   STREAM=sasrec bash benchmarks/recipes/beauty_protocol.sh   SASRecSeq (RecBole's SASRec with CE, same targets), then
#                                                      FAME (paper's equations) and FAME w/o MoE warm-started from it
#   STREAM=text   bash benchmarks/recipes/beauty_protocol.sh   FAMETextPretrain on the items' text and facets, then FAME
#                                                      from it, then FAME from scratch
# The committed seed-2020 text run predates the pre-training's held-out validation: add validation_items=0 to
# its settings to repeat it exactly.
# DATASET, SEED, OUT (results folder), SAVED (checkpoint folder) and PYTHON are parameters. Afterwards
# benchmarks/protocol_table.py re-scores every best checkpoint under both protocols and writes the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1
PYTHON=${PYTHON:-.venv/bin/python}
DATASET=${DATASET:-amazon-beauty}
SEED=${SEED:-2020}
OUT=${OUT:-results/beauty/protocol}
SAVED=${SAVED:-saved/beauty-protocol}
STREAM=${STREAM:-sasrec}
H=${H:-4}
COMMON="train_mode=sequence sequence_loss_weighting=target length_bucketing=True train_batch_size=44 train_batch_unit=sequences epochs=200 stopping_step=5 eval_exclude_history=True show_progress=False checkpoint_dir=$SAVED"
compare() {
    nice -n 10 "$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$OUT" --seed="$SEED" --set $COMMON --models "$1"
}
checkpoint() {  # the best checkpoint of a finished run
    "$PYTHON" -c "import json, sys; print(json.load(open(sys.argv[1]))['checkpoint'])" "$OUT/$1-seed$SEED.json"
}
case $STREAM in
    sasrec)
        BASE="SASRec=SASRecSeq:n_heads=$H"
        compare "$BASE"
        CKPT=$(checkpoint SASRec)
        compare "FAME (warm start)=FAME:n_heads=$H,num_experts=4,pretrained_path=$CKPT"
        compare "FAME w-o MoE (warm start)=FAME:n_heads=$H,num_experts=1,pretrained_path=$CKPT"
        ;;
    text)
        compare "FAMETextPretrain=FAMETextPretrain:n_heads=$H,train_mode=prefix,length_bucketing=False"
        TEXT=$(checkpoint FAMETextPretrain)
        compare "FAME (text start)=FAME:n_heads=$H,num_experts=4,text_pretrained_path=$TEXT"
        compare "FAME (scratch)=FAME:n_heads=$H,num_experts=4"
        ;;
    *) echo "STREAM is sasrec or text, not $STREAM" >&2; exit 2 ;;
esac
