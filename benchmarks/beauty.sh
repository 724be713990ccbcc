#!/usr/bin/env bash
# The Amazon Beauty comparison in results/beauty/ (FAME paper Table 2 protocol), on a 2-core CPU.
# Prepare the data first:
#   python -m recbole_fame.prepare seqfile ../shared/data/amazon-beauty/Beauty.txt \
#       --items ../shared/data/amazon-beauty/beauty_items.tsv --out dataset
# Efficient mode for SASRecSeq and FAME (each training sequence once, loss at every position, batches
# bucketed by length); 128 sequences per batch; early stopping on validation NDCG@10 after 5 epochs
# without improvement. FAME warm-started from the same seed's SASRecSeq checkpoint follows the paper's
# training pipeline (Section 4.4.2).
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${SEED:-2020}
COMMON="train_mode=sequence length_bucketing=True train_batch_size=128 epochs=200 stopping_step=5 checkpoint_dir=saved/beauty"
python benchmarks/compare.py --dataset=amazon-beauty --out=results/beauty --seed="$SEED" --set $COMMON \
    --models "SASRecSeq=SASRecSeq:n_heads=2; FAME=FAME:n_heads=4,num_experts=4; FAME w/o MoE=FAME:n_heads=4,num_experts=1"
SASREC_CKPT=$(python -c "import json; print(json.load(open('results/beauty/SASRecSeq-seed$SEED.json'))['checkpoint'])")
python benchmarks/compare.py --dataset=amazon-beauty --out=results/beauty --seed="$SEED" --set $COMMON \
    --models "SASRecSeq=SASRecSeq:n_heads=2; FAME=FAME:n_heads=4,num_experts=4; FAME w/o MoE=FAME:n_heads=4,num_experts=1; FAME (warm start)=FAME:n_heads=4,num_experts=4,pretrained_path=$SASREC_CKPT"
