#!/usr/bin/env bash
# Set up everything on a fresh machine: a virtual environment in .venv with the CPU build of torch,
# then recbole_fame (non-editable) with its pinned dependencies, the offline text encoder and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 11)))'; then
    echo "error: recbole_fame needs Python 3.9-3.11 (RecBole 1.2.1 pins ray<=2.6.3, which has no wheels for newer" \
         "Pythons); $PYTHON is $("$PYTHON" --version 2>&1). Set PYTHON=/path/to/python3.11." >&2
    exit 2
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# The CPU wheel first, so that no dependency pulls a multi-GB CUDA build of torch.
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
rm -rf build  # no stale files from an earlier build in the wheel
.venv/bin/python -m pip install -q --disable-pip-version-check ".[text,test]"
