#!/usr/bin/env bash
# CI stage: the ecosystem runs on this brainstate (issue #13).
#
# Where a Python 3.12 exists, builds .ecosystem/venv (ignored by git) with this repo installed
# editable, braintools 0.4.0 / brainpy 2.9.0 / braintrace 0.2.8 (--no-deps) and their third-party
# dependencies pinned by .ci/ecosystem_constraints.txt, then runs the fixed list of their test
# files in .ci/ecosystem_tests.txt (all of which pass on the reference brainstate 0.5.4) and fails
# if any of them fails, errors, or passes fewer tests than on the reference.
# Budget: under 15 minutes on 2 cores. Called from .ci/run as:  bash .ci/ecosystem.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 tools/ecosystem.py has-python312; then
    echo "ecosystem: no Python 3.12 on this machine; stage skipped"
    exit 0
fi
venv="${ECOSYSTEM_VENV:-$PWD/.ecosystem/venv}"
python3 tools/ecosystem.py setup --venv "$venv"
# A hung test fails after 5 minutes; the whole run is cut at 30 (twice the budget).
timeout 1800 python3 tools/ecosystem.py run --venv "$venv" --subset .ci/ecosystem_tests.txt \
    --logdir "$(dirname "$venv")" -n 2 --timeout 300
