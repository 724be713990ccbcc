#!/usr/bin/env bash
# RecBole's own baselines on Amazon Beauty (the rest of the paper's Table 2), as RecBole ships them: their
# default .yaml settings (hidden size 64, CE loss), RecBole's prefix samples, batch size 256, early stopping
# after 5 epochs without a better validation NDCG@10, one thread. Each model takes from ~1 (GRU4Rec) to many
# hours (BERT4Rec, FEARec) on a 2-core CPU; runs whose JSON exists are skipped.
#   MODELS="GRU4Rec; CORE" SEED=2020 bash benchmarks/beauty_recbole.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
SEED=${SEED:-2020}
MODELS=${MODELS:-"SASRec; GRU4Rec; BERT4Rec; CORE; FEARec"}
python benchmarks/compare.py --dataset=amazon-beauty --out=results/beauty --seed="$SEED" \
    --set train_batch_size=256 epochs=200 stopping_step=5 checkpoint_dir=saved/beauty \
    --models "$MODELS"
# the seed's table with every run of this folder that exists (benchmarks/beauty.sh's runs too)
python benchmarks/compare.py --dataset=amazon-beauty --out=results/beauty --seed="$SEED" --table_only \
    --models "SASRec; GRU4Rec; BERT4Rec; CORE; FEARec; SASRecSeq; SASRecSeq (4 heads); FAME (warm start); FAME w/o MoE (warm start); FAME"
