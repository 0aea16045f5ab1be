#!/usr/bin/env bash
# Set up (package, test tools, real Restate Server) and run the whole test suite.
# Extra arguments go to pytest (for example -k conformance).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh --test
exec "${PYTHON:-python3}" -m pytest "$@"
