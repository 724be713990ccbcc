#!/usr/bin/env bash
# The paper's Table 2 protocol on any prepared dataset, one command per dataset: SASRec trained in the
# efficient sequence mode (the plugin's SASRecSeq), FAME and FAME w/o MoE warm-started from it (Section 4.4.2;
# compare.py's warm_start= takes the checkpoint and its backbone settings, n_heads included, from that run),
# then RecBole's baselines on RecBole's prefix samples, and the table (models as columns, FAME's improvement over
# the best baseline). Leave-one-out, full ranking, HR/NDCG@5/10/20, early stopping on validation NDCG@10.
#
#   DATASET=amazon-sports-outdoors bash benchmarks/recipes/table2.sh
#   DATASET=amazon-toys-games SEED=2021 bash benchmarks/recipes/table2.sh
#   DATASET=ml-20m BASELINES="" bash benchmarks/recipes/table2.sh       (FAME and its SASRec only)
#
# Prepare the dataset first (python -m recbole_fame.prepare ..., see dataset/README.md). Parameters (environment):
#   DATASET    dataset name (default amazon-beauty)          SEED       seed (default 2020)
#   RESULTS    results folder (default results/<DATASET>/table2)   SAVED  checkpoints (default saved/<DATASET>)
#   HEADS      H of SASRec and FAME (default 2, RecBole's SASRec default)   EXPERTS  N of FAME (default 4)
#   BASELINES  RecBole models to add, ';'-separated (default "SASRec; GRU4Rec; BERT4Rec; CORE; FEARec"; each
#              takes hours per seed on a CPU on RecBole's prefix samples; "" skips them)
#   SETTINGS   settings for every run (default "epochs=200 stopping_step=10")
#   PYTHON     the interpreter (default .venv/bin/python)
# Runs whose JSON exists in RESULTS are skipped, so the script continues where it stopped. The sequence mode's
# train_batch_size (256, the paper's) counts training targets, as RecBole's prefix mode counts samples.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
DATASET=${DATASET:-amazon-beauty}
SEED=${SEED:-2020}
RESULTS=${RESULTS:-results/$DATASET/table2}
SAVED=${SAVED:-saved/$DATASET}
HEADS=${HEADS:-2}
EXPERTS=${EXPERTS:-4}
BASELINES=${BASELINES-"SASRec; GRU4Rec; BERT4Rec; CORE; FEARec"}
SETTINGS=${SETTINGS:-"epochs=200 stopping_step=10"}
PYTHON=${PYTHON:-.venv/bin/python}
SASREC="SASRec (sequence mode)"
"$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$RESULTS" --seed="$SEED" \
    --set $SETTINGS checkpoint_dir="$SAVED" --models "\
$SASREC=SASRecSeq:n_heads=$HEADS,train_mode=sequence,length_bucketing=True; \
FAME (warm start)=FAME:warm_start=$SASREC,num_experts=$EXPERTS,train_mode=sequence; \
FAME w/o MoE (warm start)=FAME:warm_start=$SASREC,num_experts=1,train_mode=sequence${BASELINES:+; $BASELINES}"
