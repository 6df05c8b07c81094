#!/usr/bin/env bash
# Install (with the dev tools) and run the whole test suite: ./test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh --dev
# independent tests run concurrently, one worker per core (PYTEST_WORKERS=0: in-process)
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" "$@"
