#!/usr/bin/env bash
# Issue 5 on a lent GPU, in one call of the device tool (15 minutes of device time per task, 10 per command):
#  1. benchmarks/cost.py on CUDA (FAME vs SASRec: step, inference, parameters, peak memory), alone on the GPU;
#  2. side by side until DEADLINE seconds after the start, seed 2020, Beauty, early stopping after 5 epochs
#     without a better validation NDCG@10:
#     - RecBole's BERT4Rec and FEARec on RecBole's own batches (BUCKETING=True beauty_recbole.sh's setting);
#     - RecBole's SASRec on bucketed prefix samples and in the sequence mode (beauty_modes.sh's "prefix" and
#       "target" runs), from scratch on the GPU;
#     - FAME H2 N4 warm-started from the CPU run's SASRec checkpoint of seed 2020 (WARM, the start of the
#       CPU FAME runs in results/beauty/modes/), residual and paper's equations, prefix mode;
#  3. runs that early stopping has not ended by the deadline are recorded as capped (finish_capped.py).
# Results (one JSON per run, table-seed2020.md, cost_gpu.md) in OUTDIR, logs in OUTDIR/logs. (The committed
# call's cost_gpu.md is results/cost_gpu_einsum_layers.md: it measured FAME's last layer before it went from
# einsum to batched matmuls; benchmarks/recipes/gpu_cost.sh measured the layer as it is now.)
# Everything runs from the source tree with the machine's own torch; RecBole and what it needs beyond that
# machine's packages come as wheels (RecBole 1.2.1, pandas < 3, colorlog, texttable, thop, pytz, tzdata).
#   DEADLINE=460 bash benchmarks/recipes/beauty_gpu.sh
# results/beauty/gpu/ came from one call on an NVIDIA H200 (its python3 3.12 with torch 2.11, numpy 2.5), with
# the wheels in .whl/ (pip download --python-version 3.12 ... recbole==1.2.1 colorlog==4.7.2 texttable thop
# pandas==2.3.3 pytz tzdata) and dataset/amazon-beauty and $WARM carried along:
#   python3 -m pip install --no-index --no-deps --target /tmp/site .whl/*.whl
#   PYTHONPATH=/tmp/site:$PWD PYTHON=python3 DEADLINE=440 bash benchmarks/recipes/beauty_gpu.sh
# Parameters (environment): DATASET, SEED, OUTDIR (results), CKPT (checkpoints), WARM, DEADLINE, EXTRA,
# COST_ARGS, PYTHON (default .venv/bin/python).
# A rehearsal on a CPU: DATASET=ml-100k WARM=<an ml-100k SASRecSeq checkpoint> DEADLINE=120 EXTRA="epochs=2" \
#   COST_ARGS="--heads=2 --experts=4 --steps=2" OUTDIR=/tmp/gpu_rehearsal bash benchmarks/recipes/beauty_gpu.sh
set -uo pipefail
source "$(dirname "$0")/common.sh"
START=$(date +%s)
DEADLINE=${DEADLINE:-460}
OUTDIR=${OUTDIR:-results/beauty/gpu}
CKPT=${CKPT:-saved/gpu}
WARM=${WARM:-saved/beauty/SASRecSeq-Nov-29-2026_17-08-32.pth}
EXTRA=${EXTRA:-}
COST_ARGS=${COST_ARGS:-"--steps=30"}
export PYTHONUNBUFFERED=1
mkdir -p "$OUTDIR/logs"
LOGS=$OUTDIR/logs
elapsed() { echo $(( $(date +%s) - START )); }

# fail fast: the stack and the GPU, before any long step
"$PYTHON" - <<'EOF' 2>&1 | tee "$LOGS/preflight.log" || exit 3
import numpy, pandas, torch, recbole, recbole_fame
print("python", __import__("sys").version.split()[0], "numpy", numpy.__version__, "pandas", pandas.__version__,
      "torch", torch.__version__, "recbole", recbole.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name() if torch.cuda.is_available() else "")
EOF
[ -f "$WARM" ] || { echo "error: the warm start checkpoint $WARM is missing; carry it or set WARM=" >&2; exit 3; }

echo "[$(elapsed) s] cost"
"$PYTHON" -m benchmarks.cost --dataset="$DATASET" $COST_ARGS --out="$OUTDIR/cost_gpu.md" > "$LOGS/cost.log" 2>&1 \
    || echo "cost.py failed: see $LOGS/cost.log"

COMMON="epochs=200 stopping_step=5 show_progress=False $EXTRA"
# compare.py LOGNAME CHECKPOINT_SUBDIR MODELS SETTINGS...
compare() {
    local name=$1 sub=$2 models=$3; shift 3
    "$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$OUTDIR" --seed="$SEED" \
        --set $COMMON checkpoint_dir="$CKPT/$sub" "$@" --models "$models" > "$LOGS/$name.log" 2>&1
}
# the warm start is our own checkpoint from outside the run's checkpoint_dir: trusted explicitly
W="n_heads=2,num_experts=4,facet_init=slice,pretrained_path=$WARM,trust_checkpoint=True"
echo "[$(elapsed) s] training"
compare bert4rec bert4rec "BERT4Rec=BERT4Rec:length_bucketing=False" train_batch_size=256 &
compare fearec fearec "FEARec=FEARec:length_bucketing=False" train_batch_size=256 &
compare sasrec_prefix sasrec_prefix "SASRecSeq (prefix mode)=SASRecSeq:n_heads=2,train_mode=prefix,train_batch_size=256" \
    length_bucketing=True &
compare sasrec_sequence sasrec_sequence \
    "SASRecSeq (sequence mode, 44 per batch, target weighting)=SASRecSeq:n_heads=2,train_mode=sequence,train_batch_size=44,train_batch_unit=sequences,sequence_loss_weighting=target" \
    length_bucketing=True &
compare fame_residual fame_residual "FAME H2 N4 attention residual (warm start, prefix mode)=FAME:$W,attention_residual=True" \
    train_mode=prefix length_bucketing=True train_batch_size=256 &
compare fame fame "FAME H2 N4 (warm start, prefix mode)=FAME:$W" train_mode=prefix length_bucketing=True train_batch_size=256 &
while [ -n "$(jobs -rp)" ] && [ "$(elapsed)" -lt "$DEADLINE" ]; do sleep 5; done
if [ -n "$(jobs -rp)" ]; then
    echo "[$(elapsed) s] deadline: stopping the runs still training"
    "$PYTHON" -c "
import os, psutil
# not this process, whose own command line holds the string too
runs = [p for p in psutil.process_iter(['cmdline'])
        if p.pid != os.getpid() and 'benchmarks.compare' in ' '.join(p.info['cmdline'] or [])]
for p in runs: p.terminate()
psutil.wait_procs(runs, timeout=10)
for p in runs:
    if p.is_running(): p.kill()"
fi
wait

echo "[$(elapsed) s] recording capped runs"
for job in "$OUTDIR"/*.json.job; do
    [ -e "$job" ] || continue
    last=$("$PYTHON" -c "
import glob, json, os, sys
job = json.load(open(sys.argv[1]))
files = glob.glob(os.path.join(job['settings']['checkpoint_dir'], job['model'] + '-*-last.pth'))
print(max(files, key=os.path.getmtime) if files else '')" "$job")
    if [ -z "$last" ]; then echo "$job: no epoch finished, nothing to record"; continue; fi
    "$PYTHON" -m benchmarks.finish_capped "$job" "$last" > "$LOGS/capped-$(basename "$job" .json.job).log" 2>&1 \
        && rm "$job" &
done
wait
"$PYTHON" -m benchmarks.compare --dataset="$DATASET" --out="$OUTDIR" --seed="$SEED" --table_only --models "\
SASRecSeq (prefix mode)=SASRecSeq; SASRecSeq (sequence mode, 44 per batch, target weighting)=SASRecSeq; BERT4Rec; FEARec; \
FAME H2 N4 attention residual (warm start, prefix mode)=FAME; FAME H2 N4 (warm start, prefix mode)=FAME" > "$LOGS/table.log" 2>&1
echo "[$(elapsed) s] done"
ls "$OUTDIR"
