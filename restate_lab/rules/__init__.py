"""Pure Restate rules shared by the runtime and the simulator: no I/O, no clock.

Every function here takes "now" (milliseconds since the epoch, or any monotone
number the caller chooses) as an argument instead of reading a clock, so the
asyncio runtime and the simpy simulator drive the same code.
"""

from restate_lab.rules.durations import InvalidDuration, format_rfc3339, parse_duration_ms
from restate_lab.rules.errors import FailureText, RestateError
from restate_lab.rules.idempotency import IdempotencyTable
from restate_lab.rules.ids import InvocationId, awakeable_id, parse_awakeable_id
from restate_lab.rules.keyed_queue import KeyedQueue
from restate_lab.rules.lifecycle import CancelAction, InvocationStatus, KillAction, after_failure
from restate_lab.rules.retry import RetryPolicy
from restate_lab.rules.targets import HandlerType, ServiceType, Target

__all__ = [
    "CancelAction",
    "FailureText",
    "HandlerType",
    "IdempotencyTable",
    "InvalidDuration",
    "InvocationId",
    "InvocationStatus",
    "KeyedQueue",
    "KillAction",
    "RestateError",
    "RetryPolicy",
    "ServiceType",
    "Target",
    "after_failure",
    "awakeable_id",
    "format_rfc3339",
    "parse_awakeable_id",
    "parse_duration_ms",
]
