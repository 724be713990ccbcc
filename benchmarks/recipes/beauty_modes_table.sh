#!/usr/bin/env bash
# The seed's table of results/beauty/modes/ (paper's Table 2 layout) with every run of that folder that exists:
# RecBole's SASRec on prefix samples vs the sequence mode (beauty_modes.sh), FAME warm-started from it
# (beauty_prefix_fame.sh) and RecBole's other baselines on the same bucketed prefix batches, BERT4Rec and FEARec
# on RecBole's own (BUCKETING=True beauty_recbole.sh). Those scripts call it at their end.
#   SEED=2020 bash benchmarks/recipes/beauty_modes_table.sh
# Parameters (environment): DATASET, SEED, RESULTS (the table is of $RESULTS/modes), PYTHON (default .venv/bin/python).
set -euo pipefail
source "$(dirname "$0")/common.sh"
RESULTS=${RESULTS:-results/beauty}
"$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$RESULTS/modes" --seed="$SEED" --table_only --models "\
SASRecSeq (prefix mode)=SASRecSeq; SASRecSeq (sequence mode, 44 per batch)=SASRecSeq; \
SASRecSeq (sequence mode, 44 per batch, target weighting)=SASRecSeq; \
GRU4Rec (bucketed batches)=GRU4Rec; CORE (bucketed batches)=CORE; BERT4Rec; FEARec; \
FAME H2 N4 attention residual (warm start, prefix mode)=FAME; FAME H2 N4 attention residual (warm start, sequence mode)=FAME; \
FAME H2 N4 (warm start, prefix mode)=FAME; FAME H2 N4 (warm start, sequence mode)=FAME; \
FAME w/o MoE H2 (warm start, sequence mode)=FAME; FAME H2 N4 head_mixing probs (warm start, sequence mode)=FAME; \
FAME H2 N16 (warm start, sequence mode)=FAME"
