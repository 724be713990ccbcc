#!/usr/bin/env bash
# Issue 19 on a lent GPU, in one call of the device tool (under 10 minutes; each step has its own timeout):
#  1. benchmarks/fast_path.py for FAME (H=4, N=4) and SASRecSeq (2 heads) on Beauty, efficient mode (sequence
#     mode, length bucketing, 44 sequences per batch): seconds per training epoch and per validation pass,
#     EPOCHS epochs each, with compile_model False (eager) and True (torch.compile of the training step and the
#     full-sort scoring; the first epoch pays the compilation, the last is the steady state);
#  2. the NCCL path of multi-process training with one process on the one GPU: run_recbole_fame.py with
#     --nproc=1 --world_size=1 (RecBole's distributed trainer; --nproc=1 alone runs single-process), one epoch.
# Results in OUTDIR (FAME.md/.json, SASRecSeq.md/.json), logs in OUTDIR/logs (nvidia-smi, one log per step,
# nccl.log with the run's test result and its seconds in nccl_seconds.txt).
#
# Setup as for benchmarks/recipes/beauty_gpu.sh: the machine's python3 with its CUDA torch, RecBole and what it needs
# beyond that machine's packages as wheels in .whl/, dataset/amazon-beauty carried along:
#   python3 -m pip install --no-index --no-deps --target /tmp/site .whl/*.whl
#   PYTHONPATH=/tmp/site:$PWD PYTHON=python3 bash benchmarks/recipes/gpu_fast_path.sh
# Dry run on a CPU (the shipped tiny data, a few steps, small model, compile_backend aot_eager; a few minutes):
#   DRY_RUN=1 PYTHON=.venv/bin/python bash benchmarks/recipes/gpu_fast_path.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
START=$(date +%s)
PYTHON=${PYTHON:-.venv/bin/python}  # PYTHON=python3 on a lent machine without the venv
PY=$PYTHON
DATASET=${DATASET:-amazon-beauty}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
if [ "${DRY_RUN:-0}" = "1" ]; then
    OUTDIR=${OUTDIR:-/tmp/gpu_fast_path_dry}
    DATA="--dataset=tiny --data_path=tests/test_data"
    # aot_eager: dynamo's tracing and autograd of the compiled step without generating code (inductor's C++
    # compilation takes minutes on a busy CPU; the GPU run uses inductor)
    FAST="--epochs=1 --max_steps=4 --train_batch_size=8 --set hidden_size=16 inner_size=32 MAX_ITEM_LIST_LENGTH=20 eval_batch_size=64 compile_backend=aot_eager"
    NCCL="--dataset=tiny --data_path=tests/test_data --hidden_size=16 --inner_size=32 --MAX_ITEM_LIST_LENGTH=20 --train_batch_size=8"
    STEP_LIMIT=${STEP_LIMIT:-300}
else
    OUTDIR=${OUTDIR:-results/gpu_fast_path}
    DATA="--dataset=$DATASET --data_path=dataset/"
    FAST="--epochs=${EPOCHS:-2} --train_batch_size=44"
    NCCL="--dataset=$DATASET --data_path=dataset/ --train_batch_size=44"
    STEP_LIMIT=${STEP_LIMIT:-170}
fi
LOGS=$OUTDIR/logs
mkdir -p "$LOGS"
elapsed() { echo $(( $(date +%s) - START )); }
(nvidia-smi || echo "no nvidia-smi") > "$LOGS/nvidia-smi.txt" 2>&1
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')" \
    > "$LOGS/torch.txt" 2>&1
cat "$LOGS/torch.txt"

for MODEL in FAME SASRecSeq; do
    echo "[$(elapsed) s] fast_path.py $MODEL"
    timeout "$STEP_LIMIT" "$PY" -m benchmarks.fast_path --model="$MODEL" $DATA $FAST --out="$OUTDIR/$MODEL.md" \
        > "$LOGS/$MODEL.log" 2>&1
    echo "  exit $? (124 = timed out; the log has every finished epoch)"
done

echo "[$(elapsed) s] NCCL, --nproc=1 --world_size=1"
T0=$(date +%s)
timeout "$STEP_LIMIT" "$PY" run_recbole_fame.py --model=FAME $NCCL --n_heads=4 --num_experts=4 --epochs=1 \
    --train_mode=sequence --train_batch_unit=sequences --length_bucketing=True --nproc=1 --world_size=1 --port=29517 --show_progress=False \
    --checkpoint_dir="$OUTDIR/saved" --state=INFO > "$LOGS/nccl.log" 2>&1
echo "  exit $?"
echo "$(( $(date +%s) - T0 )) s for the whole run (start, data, one epoch, validation, test)" > "$LOGS/nccl_seconds.txt"
grep -i -E "backend|nccl|gloo|test result|best valid" "$LOGS/nccl.log" | tail -5
rm -rf "$OUTDIR/saved"
echo "[$(elapsed) s] done: $OUTDIR"
