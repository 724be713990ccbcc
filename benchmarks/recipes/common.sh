# Sourced by every recipe after its `set` line: the repository root as the working folder, one thread per run,
# and the parameters the recipes share (PYTHON, DATASET, SEED), each taken from the environment when set.
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1
PYTHON=${PYTHON:-.venv/bin/python}
DATASET=${DATASET:-amazon-beauty}
SEED=${SEED:-2020}
