#!/usr/bin/env bash
# Issue 5, efficient mode: the same model (SASRecSeq with RecBole's default 2 heads, which in prefix mode *is*
# RecBole's SASRec with CE loss: its calculate_loss is SASRec's) trained on RecBole's prefix samples, to compare
# at convergence with the sequence-mode runs of benchmarks/beauty.sh (label "SASRecSeq", same seed).
# Prefix samples, RecBole's batch size 256 (the paper's), batches bucketed by length so that each batch is
# trimmed to its longest sequence (padding cannot change a score; this is what makes the run affordable on a
# 2-core CPU), early stopping after 5 epochs without a better validation NDCG@10, one thread.
# SEED=2021 bash benchmarks/beauty_modes.sh for a second seed. Results in results/beauty/modes/.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
SEED=${SEED:-2020}
python benchmarks/compare.py --dataset=amazon-beauty --out=results/beauty/modes --seed="$SEED" \
    --set train_mode=prefix length_bucketing=True train_batch_size=256 epochs=200 stopping_step=5 \
          checkpoint_dir=saved/beauty \
    --models "SASRecSeq (prefix mode)=SASRecSeq:n_heads=2"
