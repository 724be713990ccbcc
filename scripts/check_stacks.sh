#!/usr/bin/env bash
# Set up and run the whole test suite on each Python, one virtual environment per Python, exactly as a user
# gets it with the README's commands (scripts/setup.sh, then pytest). A log per Python, with the versions,
# the set-up and suite times and pytest's output, goes to results/stacks/<date>-py<X.Y>.log, and one line per
# Python (set-up and suite: exit status and seconds) to results/stacks/<date>-summary.md. Then, with ZOO=1,
# every RecBole model through the runner for one epoch on each Python that was set up, in one matrix
# (python -m benchmarks.model_zoo: results/model_zoo.md and .json; about an hour per Python on 2 busy cores).
#
#   bash scripts/check_stacks.sh                       3.11, 3.12 and 3.13
#   PYTHONS="3.11 3.13" ZOO=1 bash scripts/check_stacks.sh   both stacks' suites and the model matrix of both
#   PYTHONS="3.13" TORCH=cpu bash scripts/check_stacks.sh
#   VENV_ROOT=/somewhere bash scripts/check_stacks.sh  where the environments go (default .venvs/py<X.Y>)
#   SUITE=0                                            set up only (with ZOO=1: the matrix without the suites)
#
# Each Python is python<X.Y> on PATH, else pyenv's <X.Y>.* (TORCH, TORCH_VERSION as for scripts/setup.sh).
# From Python 3.12 pip's torch is the CUDA build unless a CPU build can be had (see scripts/setup.sh): plan
# for a few GB of download per fresh environment. 2 CPU cores: the suite takes minutes per Python.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHONS=${PYTHONS:-"3.11 3.12 3.13"}
VENV_ROOT=${VENV_ROOT:-.venvs}
OUT=${OUT:-results/stacks}
ZOO=${ZOO:-0}
SUITE=${SUITE:-1}
DAY=$(date -u +%Y-%m-%d)
SUMMARY=$OUT/$DAY-summary.md
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$OUT"

find_python() {
    if "python$1" --version >/dev/null 2>&1; then command -v "python$1"; return; fi
    local root
    root=$(pyenv root 2>/dev/null) || return 1
    ls -d "$root"/versions/"$1".*/bin/python 2>/dev/null | sort -V | tail -1
}

status=0
zoo_pythons=()
printf '| Python | set-up | suite |\n|---|---|---|\n' > "$SUMMARY"
for version in $PYTHONS; do
    log=$OUT/$DAY-py$version.log
    python=$(find_python "$version") || python=
    if [ -z "$python" ]; then
        echo "py$version: no python$version on PATH nor in pyenv; skipped" | tee "$log"
        echo "| $version | no python$version found | not run |" >> "$SUMMARY"
        status=1
        continue
    fi
    venv=$VENV_ROOT/py$version
    (
        echo "# scripts/check_stacks.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null)" \
             "$(git diff --quiet HEAD -- . ":(exclude)$OUT" 2>/dev/null || echo '(with uncommitted changes)')"
        echo "# python: $python; venv: $venv; TORCH=${TORCH:-auto}; $(nproc --all) CPU cores"
        start=$(date +%s)
        PYTHON=$python VENV=$venv bash scripts/setup.sh 2>&1 | grep -v "^WARNING: Location .* is ignored"
        setup_rc=${PIPESTATUS[0]}
        echo "# set-up: exit $setup_rc after $(( $(date +%s) - start )) s"
        if [ "$setup_rc" = 0 ] && [ "$SUITE" = 0 ]; then
            test_rc=0
        elif [ "$setup_rc" = 0 ]; then
            "$venv/bin/python" -m pip list --format=freeze 2>/dev/null \
                | grep -i -E "^(torch|numpy|pandas|scipy|recbole|ray|transformers|safetensors|hyperopt|scikit-learn|setuptools)==" \
                | tr '\n' ' '
            echo
            start=$(date +%s)
            "$venv/bin/python" -m pytest -q -p no:cacheprovider --disable-warnings
            test_rc=$?
            echo "# suite: exit $test_rc after $(( $(date +%s) - start )) s"
        else
            test_rc=$setup_rc
        fi
        exit "$test_rc"
    ) > "$log" 2>&1
    rc=$?
    echo "py$version: exit $rc ($log)"
    [ "$rc" = 0 ] || status=1
    setup=$(grep -o "^# set-up: .*" "$log" | sed 's/^# set-up: //')
    suite=$(grep -o "^# suite: .*" "$log" | sed 's/^# suite: //')
    echo "| $("$python" --version 2>&1 | cut -d' ' -f2) | ${setup:-not run} | ${suite:-not run} |" >> "$SUMMARY"
    if grep -q "^# set-up: exit 0 " "$log"; then zoo_pythons+=(--python "$venv/bin/python"); fi
done
if [ "$ZOO" = 1 ] && [ ${#zoo_pythons[@]} -gt 0 ]; then
    nice -n 10 "${zoo_pythons[1]}" -m benchmarks.model_zoo "${zoo_pythons[@]}" --out results/model_zoo.md \
        > "$OUT/$DAY-model_zoo.log" 2>&1 || status=1
    echo "model zoo: results/model_zoo.md ($OUT/$DAY-model_zoo.log)"
fi
exit $status
