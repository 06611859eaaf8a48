#!/usr/bin/env bash
# The complete test suites of braintools 0.4.0, brainpy 2.9.0 and braintrace 0.2.8, on this
# repo's brainstate or (--reference) on the reference brainstate 0.5.4. Prints per-package
# passed/failed/errors/skipped counts; --json keeps per-file results (see tools/ecosystem.py).
#
#   tools/ecosystem_full.sh [--reference] [--json OUT] [-n JOBS] [--packages NAME ...]
#
# Venvs: .ecosystem/venv (this repo) and .ecosystem/reference (0.5.4), reused while the pins
# hold. Expect an hour or more on 2 cores for the three suites.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=()
venv="$PWD/.ecosystem/venv"
if [[ "${1:-}" == "--reference" ]]; then
    mode=(--reference)
    venv="$PWD/.ecosystem/reference"
    shift
fi
python3 tools/ecosystem.py setup --venv "$venv" "${mode[@]}"
python3 tools/ecosystem.py run --venv "$venv" --logdir "$(dirname "$venv")" --timeout 900 "$@"
