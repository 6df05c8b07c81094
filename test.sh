#!/usr/bin/env bash
# Install (with the dev tools) and run the whole test suite: ./test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh --dev
# independent tests run concurrently: two workers per core (most end-to-end tests wait on
# sockets more than they compute), at most 8 (PYTEST_WORKERS=0: in-process)
workers=$(( $(nproc) * 2 )); [ "$workers" -gt 8 ] && workers=8
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-$workers}" "$@"
