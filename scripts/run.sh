#!/usr/bin/env bash
# Set up and serve the bundled demo services: ingress on :8080, admin API on :9070.
# Extra arguments go to `restate-lab demo` (for example --port 8081).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
exec "${PYTHON:-python3}" -m restate_lab.cli demo "$@"
