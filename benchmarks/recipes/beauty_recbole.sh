#!/usr/bin/env bash
# RecBole's own baselines on Amazon Beauty (the rest of the paper's Table 2), as RecBole ships them: their
# default .yaml settings (hidden size 64, CE loss), RecBole's prefix samples, batch size 256, early stopping
# after 5 epochs without a better validation NDCG@10, one thread. Runs whose JSON exists are skipped.
# BUCKETING=True batches samples of similar length (the plugin's length_bucketing) and, for SASRec, GRU4Rec and
# CORE, cuts each batch to its longest sequence, which changes none of their scores (tests/test_sequence_mode.py)
# and makes an epoch 2.7-3.6x cheaper: the setting of RecBole's SASRec in results/beauty/modes/, where those runs
# go, labelled "(bucketed batches)". BERT4Rec and FEARec go there too, on RecBole's shuffled batches: bucketing
# would change BERT4Rec's objective (it is refused, recbole_fame/data/dataloader.py) and cannot trim FEARec's
# batches, so it would save it nothing. Without BUCKETING (results/beauty/) every model trains on RecBole's batches.
#   MODELS="GRU4Rec; CORE" SEED=2020 BUCKETING=True bash benchmarks/recipes/beauty_recbole.sh
# Parameters (environment): DATASET, SEED, RESULTS (results folder), SAVED (checkpoint folder), PYTHON
# (default .venv/bin/python); the defaults are the Beauty runs'.
set -euo pipefail
source "$(dirname "$0")/common.sh"
RESULTS=${RESULTS:-results/beauty}
SAVED=${SAVED:-saved/beauty}
MODELS=${MODELS:-"SASRec; GRU4Rec; BERT4Rec; CORE; FEARec"}
BUCKETING=${BUCKETING:-False}
RUNS=""
for model in ${MODELS//;/ }; do
    if [ "$BUCKETING" != True ]; then RUNS="$RUNS; $model"
    elif [ "$model" = BERT4Rec ] || [ "$model" = FEARec ]; then RUNS="$RUNS; $model=$model:length_bucketing=False"
    else RUNS="$RUNS; $model (bucketed batches)=$model"; fi
done
OUT=$RESULTS
if [ "$BUCKETING" = True ]; then OUT=$RESULTS/modes; fi
"$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$OUT" --seed="$SEED" \
    --set train_batch_size=256 epochs=200 stopping_step=5 checkpoint_dir="$SAVED" length_bucketing="$BUCKETING" \
    --models "$RUNS"
# the seed's table with every run of the folder that exists
if [ "$BUCKETING" = True ]; then
    DATASET="$DATASET" SEED="$SEED" RESULTS="$RESULTS" PYTHON="$PYTHON" bash benchmarks/recipes/beauty_modes_table.sh
else
    "$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$RESULTS" --seed="$SEED" --table_only \
        --models "SASRec; GRU4Rec; BERT4Rec; CORE; FEARec; SASRecSeq; SASRecSeq (4 heads)=SASRecSeq; FAME (warm start)=FAME; FAME w/o MoE (warm start)=FAME; FAME"
fi
