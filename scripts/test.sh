#!/usr/bin/env bash
# Set up (package, test tools, real Restate Server), run the static checks, then the whole test suite.
# Extra arguments go to the final pytest run (for example -k conformance).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
bash scripts/bootstrap.sh --test
echo "== ruff check" && "$PY" -m ruff check .
echo "== ruff format --check" && "$PY" -m ruff format --check .
echo "== mypy (strict)" && "$PY" -m mypy
echo "== architecture contracts (import-linter)" && "$PY" -c "import sys; from importlinter.cli import lint_imports_command as lint; sys.exit(lint())"
echo "== doctests" && "$PY" -m pytest -q -p no:nbmake -o addopts="--strict-markers" --doctest-modules restate_lab
exec "$PY" -m pytest "$@"
