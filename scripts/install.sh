#!/usr/bin/env bash
# Install the shop into ./.venv (created with python3.11+ if missing) and compile the
# translations. The Docker image runs exactly this; so do ./run.sh, ./test.sh and CI.
#   scripts/install.sh          runtime only
#   scripts/install.sh --dev    plus the test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed${extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
  touch "$stamp"
fi
# The browser tests drive Debian's own chromium (Playwright downloads no browser here)
if [ -n "$extras" ] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null \
    && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's chromium for the browser tests"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
      || echo "could not install chromium: the browser tests will say so"
  fi
fi
if ! out=$(.venv/bin/pybabel compile --domain messages --directory locales 2>&1); then
  echo "$out" >&2
  exit 1
fi
