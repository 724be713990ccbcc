#!/usr/bin/env bash
# Set up everything on a fresh machine: a virtual environment with torch, then RecBole 1.2.1 and recbole_fame
# (non-editable) with its pinned dependencies, the offline text encoder and pytest.
#
#   bash scripts/setup.sh                          Python 3.9-3.11 as python3, into .venv
#   PYTHON=python3.13 bash scripts/setup.sh        another Python (3.9-3.13)
#   TORCH=cpu|cuda|auto                            which build of torch (default auto, below)
#   TORCH_VERSION=2.14.1                           another torch (default 2.13.0 up to 3.11, 2.14.1 from 3.12)
#   VENV=/path/to/venv                             another virtual environment (default .venv)
#
# torch: PyPI's Linux x86-64 wheel of torch is the CUDA build (torch plus several GB of NVIDIA libraries);
# the CPU build (~200 MB) is on PyTorch's own index (https://download.pytorch.org/whl/cpu), or a wheel at
# hand in pip's find-links.
#   TORCH=cpu   the CPU build: a CPU wheel pip can already see (torch==V+cpu), else PyTorch's CPU index;
#               fails where neither can be reached.
#   TORCH=cuda  PyPI's build (CUDA on Linux x86-64). Where pip's find-links hold a CPU wheel of the same
#               version, pip prefers it (its +cpu version sorts higher); the end of the set-up says which
#               build was installed.
#   TORCH=auto  cuda when nvidia-smi sees a GPU; otherwise cpu, and PyPI's (CUDA) build when no CPU build
#               can be had (a note says so).
#
# Python 3.12 and later: RecBole 1.2.1 declares ray<=2.6.3, which has no wheels there (ray is only needed for
# Ray Tune, which the plugin imports only for run_hyper.py --tool=Ray). RecBole is then installed without its
# declared dependencies and setup.cfg lists the ones it imports (environment markers); pip's note that
# recbole requires ray is expected there. Up to 3.11 RecBole comes with its own dependencies, ray included.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH=${TORCH:-auto}
if ! "$PYTHON" -c 'import sys; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 13)))'; then
    echo "error: recbole_fame needs Python 3.9-3.13 (3.11, 3.12 and 3.13 are checked);" \
         "$PYTHON is $("$PYTHON" --version 2>&1). Set PYTHON=/path/to/python3.13 or similar." >&2
    exit 2
fi
case $TORCH in cpu|cuda|auto) ;; *) echo "error: TORCH must be cpu, cuda or auto, not '$TORCH'" >&2; exit 2;; esac
NEW_STACK=$("$PYTHON" -c 'import sys; print(int(sys.version_info[:2] >= (3, 12)))')
if [ "$NEW_STACK" = 1 ]; then TORCH_VERSION=${TORCH_VERSION:-2.14.1}; else TORCH_VERSION=${TORCH_VERSION:-2.13.0}; fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PY=$VENV/bin/python
pip_install() { "$PY" -m pip install -q --disable-pip-version-check "$@"; }
torch_build() {  # "<version> <cpu|cuda>" of the installed torch, or nothing
    "$PY" -c 'import torch; print(torch.__version__.split("+")[0], "cuda" if torch.version.cuda else "cpu")' 2>/dev/null || true
}
install_torch_cpu() {
    [ "$(torch_build)" = "$TORCH_VERSION cpu" ] && return 0
    pip_install "torch==$TORCH_VERSION+cpu" 2>/dev/null && return 0
    pip_install --retries 1 --timeout 30 --index-url https://download.pytorch.org/whl/cpu "torch==$TORCH_VERSION+cpu"
}
install_torch_cuda() {
    [ "$(torch_build)" = "$TORCH_VERSION cuda" ] && return 0
    pip_install "torch==$TORCH_VERSION"
}
case $TORCH in
    cpu) install_torch_cpu || {
             echo "error: no CPU build of torch $TORCH_VERSION could be had (no CPU wheel in pip's find-links and" \
                  "https://download.pytorch.org/whl/cpu not reachable); use TORCH=cuda for PyPI's build" >&2
             exit 3
         };;
    cuda) install_torch_cuda;;
    auto) if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
              install_torch_cuda
          elif ! install_torch_cpu 2>/dev/null; then
              echo "note: no CPU build of torch $TORCH_VERSION could be had here; installing PyPI's build," \
                   "which on Linux x86-64 is the CUDA one (several GB)" >&2
              install_torch_cuda
          fi;;
esac

rm -rf build  # no stale files from an earlier build in the wheel
if [ "$NEW_STACK" = 1 ]; then
    pip_install --no-deps recbole==1.2.1
fi
pip_install ".[text,test]"
[ "$NEW_STACK" = 0 ] || echo "(pip's line 'recbole 1.2.1 requires ray' is expected here: ray is only for Ray Tune)"
"$PY" -c 'import sys, numpy, pandas, torch, recbole
print("recbole_fame set up in", sys.prefix, "- python", sys.version.split()[0], "numpy", numpy.__version__,
      "pandas", pandas.__version__, "torch", torch.__version__,
      "(CUDA " + torch.version.cuda + ")" if torch.version.cuda else "(CPU)", "recbole", recbole.__version__)'
