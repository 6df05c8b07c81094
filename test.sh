#!/usr/bin/env bash
# Install (with the dev tools) and run the whole test suite: ./test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh --dev
exec .venv/bin/python -m pytest "$@"
