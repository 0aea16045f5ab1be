#!/usr/bin/env bash
# Regenerate restate_lab/protocol/service_protocol_pb2.py (+ .pyi) from service_protocol.proto with grpcio-tools.
# The generated files are committed; run this after editing the .proto (pip install grpcio-tools).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"${PYTHON:-python3}" -m grpc_tools.protoc -I. --python_out=. --pyi_out=. restate_lab/protocol/service_protocol.proto
