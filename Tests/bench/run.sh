#!/usr/bin/env bash
# make bench: release build, LiteLLM from PyPI in its own venv, nginx and wrk from Debian, then the
# full run; the table goes to docs/performance.md. `run.sh --smoke` is the seconds-long CI smoke.
set -euo pipefail
cd "$(dirname "$0")/../.."
LITELLM_VERSION=1.83.0   # a clean recent release (never 1.82.7 or 1.82.8)
export LITELLM_VERSION

if [ "${1:-}" = "--smoke" ]; then
  exec python3 Tests/bench/bench.py --smoke --switchboard .build/debug/switchboard
fi

swift build -c release --static-swift-stdlib   # as `make build BUILD_CONFIG=release` builds it
venv=.build-bench/litellm-venv
if [ ! -x "$venv/bin/litellm" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "litellm[proxy]==$LITELLM_VERSION"
fi
python3 Tests/bench/bench.py --litellm "$venv/bin/litellm" --write docs/performance.md "$@"
