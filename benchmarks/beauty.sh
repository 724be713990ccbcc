#!/usr/bin/env bash
# The Amazon Beauty comparison in results/beauty/ (FAME paper Table 2 protocol), on a 2-core CPU.
# Prepare the data first:
#   python -m recbole_fame.prepare seqfile ../shared/data/amazon-beauty/Beauty.txt \
#       --items ../shared/data/amazon-beauty/beauty_items.tsv --out dataset
# Efficient mode for SASRecSeq and FAME (each training sequence once, loss at every position, batches
# bucketed by length); 128 sequences per batch; early stopping on validation NDCG@10 after 5 epochs
# without improvement; one thread per run. FAME warm-started from the same seed's SASRecSeq checkpoint
# follows the paper's training pipeline (Section 4.4.2). SEED=2021 bash benchmarks/beauty.sh for a second seed.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
SEED=${SEED:-2020}
COMMON="train_mode=sequence length_bucketing=True train_batch_size=128 epochs=200 stopping_step=5 checkpoint_dir=saved/beauty"
python benchmarks/compare.py --dataset=amazon-beauty --out=results/beauty --seed="$SEED" --set $COMMON \
    --models "SASRecSeq=SASRecSeq:n_heads=2; FAME=FAME:n_heads=4,num_experts=4,facet_init=slice"
SASREC_CKPT=$(python -c "import json; print(json.load(open('results/beauty/SASRecSeq-seed$SEED.json'))['checkpoint'])")
python benchmarks/compare.py --dataset=amazon-beauty --out=results/beauty --seed="$SEED" --set $COMMON \
    --models "SASRecSeq=SASRecSeq:n_heads=2; FAME=FAME:n_heads=4,num_experts=4,facet_init=slice; FAME (warm start)=FAME:n_heads=4,num_experts=4,facet_init=slice,pretrained_path=$SASREC_CKPT"
# Not run yet on this CPU (each takes hours in RecBole's prefix mode): the rest of the paper's Table 2.
#   python benchmarks/compare.py --dataset=amazon-beauty --out=results/beauty --seed="$SEED" \
#       --set epochs=200 stopping_step=5 checkpoint_dir=saved/beauty \
#       --models "SASRec; GRU4Rec; BERT4Rec; CORE; FEARec; FAME w/o MoE=FAME:num_experts=1,train_mode=sequence,length_bucketing=True"
