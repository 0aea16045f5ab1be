"""The differential fuzzer: generated requests answered alike by Restate Server 1.7.12 and ``restate-lab serve``.

CI runs ``RESTATE_LAB_FUZZ_EXAMPLES`` examples (default 400) from the fixed seed
``RESTATE_LAB_FUZZ_SEED``; hypothesis shrinks the first difference to a small request and prints it
with both normalised answers. A long run that counts every distinct difference instead of stopping
at the first: ``PYTHONPATH=$PWD python -m tests.fidelity.fuzz --examples 10000``.
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, seed, settings

from tests.fidelity.compare import deliberate, observe, send
from tests.fidelity.session import Pair
from tests.fidelity.strategies import FuzzRequest, requests

EXAMPLES = int(os.environ.get("RESTATE_LAB_FUZZ_EXAMPLES", "400"))
SEED = int(os.environ.get("RESTATE_LAB_FUZZ_SEED", "20261202"))


@seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request=requests())
def test_lab_answers_every_generated_request_like_restate_server(pair: Pair, request: FuzzRequest) -> None:
    """Every generated ingress/admin request gets the same normalised answer from both servers."""
    real = send(pair.real, request, pair.real_dp)
    lab = send(pair.lab, request, pair.lab_dp)
    if deliberate(request, real.answer, lab.answer) is not None:
        return
    expected, actual = observe(real), observe(lab)
    assert actual == expected, (
        f"{request.show()}\nrestate-server: {json.dumps(expected, sort_keys=True, default=str)}\n"
        f"restate_lab:    {json.dumps(actual, sort_keys=True, default=str)}"
    )
