#!/usr/bin/env bash
# Install (first time) and start the shop: BOT_TOKEN=123:abc ./run.sh
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
exec .venv/bin/python -m bot
