#!/usr/bin/env bash
# The paper's Table 2 protocol on one dataset, trained and selected under the S3-Rec lineage's evaluation
# (eval_exclude_history: True, every earlier item of the user hidden when ranking; the amazon-* default).
# Efficient mode (each training sequence once, loss at every position, every target weighed as a prefix sample
# is, batches bucketed by length; 44 sequences ~ 256 targets per batch on Beauty), early stopping after 5
# validations without a better NDCG@10, one thread per run. Runs whose JSON exists are skipped.
#   STREAM=sasrec    SASRecSeq (RecBole's SASRec with CE, same targets), then FAME (paper's equations) and
#                    FAME w/o MoE warm-started from it
#   STREAM=text      FAMETextPretrain on the items' text and facets (early-stopped on the training labels,
#                    validation_items=0), then FAME from it
#   STREAM=combined  FAME from both starts of the same seed (combine_warm_starts: the text run's item embeddings
#                    and facet projections, the rest from SASRec); after sasrec and text
#   STREAM=scratch   FAME from a random start
#   STREAM=tried     train_exclude_history (each target's earlier items out of its training softmax): SASRecSeq,
#                    and FAME warm-started from the sasrec stream's SASRec; into $OUT/tried
# e.g. SEED=2021 STREAM=sasrec bash benchmarks/recipes/beauty_protocol.sh
# DATASET, SEED, OUT (results folder), SAVED (checkpoint folder) and PYTHON are parameters. Afterwards
# python -m benchmarks.protocol_table re-scores every best checkpoint under both protocols and writes the table.
set -euo pipefail
source "$(dirname "$0")/common.sh"
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
        compare "SASRec=SASRecSeq:n_heads=$H"
        CKPT=$(checkpoint SASRec)
        compare "FAME (warm start)=FAME:n_heads=$H,num_experts=4,pretrained_path=$CKPT"
        compare "FAME w-o MoE (warm start)=FAME:n_heads=$H,num_experts=1,pretrained_path=$CKPT"
        ;;
    text)
        compare "FAMETextPretrain=FAMETextPretrain:n_heads=$H,train_mode=prefix,length_bucketing=False,validation_items=0"
        compare "FAME (text start)=FAME:n_heads=$H,num_experts=4,text_pretrained_path=$(checkpoint FAMETextPretrain)"
        ;;
    combined)
        compare "FAME (text + SASRec start)=FAME:n_heads=$H,num_experts=4,pretrained_path=$(checkpoint SASRec),text_pretrained_path=$(checkpoint FAMETextPretrain),combine_warm_starts=True"
        ;;
    scratch)
        compare "FAME (scratch)=FAME:n_heads=$H,num_experts=4"
        ;;
    tried)
        CKPT=$(checkpoint SASRec)
        OUT=$OUT/tried
        compare "SASRec (history out of the softmax)=SASRecSeq:n_heads=$H,train_exclude_history=True"
        compare "FAME (warm start, history out of the softmax)=FAME:n_heads=$H,num_experts=4,pretrained_path=$CKPT,train_exclude_history=True"
        ;;
    *) echo "STREAM is sasrec, text, combined, scratch or tried, not $STREAM" >&2; exit 2 ;;
esac
