"""Temporary adapters from today's targets to the agreed ``IngressApi`` (the one place for such shims).

The widgets are written against the names in the target interface (``invocations()`` returning a
DataFrame, ``journal()``, ``state()``, ``call(..., timeout=)``). Until every target implements them, the
functions here try the agreed method first and fall back to what today's target offers. Once
``LocalRestate``, ``RestateClient`` and ``SimulatedRestate`` implement the interface, every fallback
here is dead code and this module can be deleted (its callers then call the target directly).
"""

from __future__ import annotations

import concurrent.futures
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from restate_lab.rules.errors import RestateError

if TYPE_CHECKING:
    import pandas as pd

    from restate_lab.sim.model import Catalogue

_SIM_SERVICE_TY = {"Service": "SERVICE", "VirtualObject": "VIRTUAL_OBJECT", "Workflow": "WORKFLOW"}


def _accepts(method: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def _not_supported(target: object, what: str) -> RestateError:
    try:
        from restate_lab import NotSupportedByTarget  # type: ignore[attr-defined]

        return NotSupportedByTarget(501, f"{type(target).__name__} cannot {what}", "ingress")  # type: ignore[no-any-return]
    except ImportError:
        return RestateError(501, f"{type(target).__name__} cannot {what}", "ingress")


def with_timeout(target: object, method: str, timeout: float, *args: Any, **kwargs: Any) -> Any:
    """``target.method(*args, timeout=timeout, **kwargs)``, bounded even where ``timeout=`` is not taken yet.

    A target without the ``timeout`` parameter runs in a helper thread that is abandoned (not killed)
    on expiry; the invocation then goes on in the target and can be found in the invocations view.
    """
    fn = getattr(target, method)
    if _accepts(fn, "timeout"):
        return fn(*args, timeout=timeout, **kwargs)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"restate-lab-{method}")
    future = pool.submit(fn, *args, **kwargs)
    pool.shutdown(wait=False)
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise TimeoutError(
            f"no answer from {method} within {timeout:g} s; the invocation may still be running "
            "(see the invocations view)"
        ) from None


def invocations(
    target: Any, *, service: str | None = None, status: str | None = None, limit: int | None = None
) -> pd.DataFrame:
    """``target.invocations(service=, status=, limit=)`` as a ``sys_invocation``-shaped DataFrame."""
    import pandas as pd

    from restate_lab.notebook.frames import invocations_frame_from_rows

    fn = getattr(target, "invocations", None)
    if fn is not None and _accepts(fn, "service"):
        frame = fn(service=service, status=status, limit=limit)
        return invocations_frame_from_rows(frame)
    if fn is not None:
        rows: Any = fn()
    elif hasattr(target, "simulation"):
        rows = _simulated_invocations(target)
    elif hasattr(target, "query"):
        rows = target.query("select * from sys_invocation")
    else:
        raise _not_supported(target, "list invocations")
    frame = invocations_frame_from_rows(rows if isinstance(rows, pd.DataFrame) else list(rows))
    if service is not None:
        frame = frame[frame["target_service_name"] == service]
    if status is not None:
        frame = frame[frame["status"] == status]
    if limit is not None:
        frame = frame.head(limit)
    return frame.reset_index(drop=True)


def _simulated_invocations(target: Any) -> pd.DataFrame:
    """The ``sys_invocation`` columns of a ``SimulatedRestate``'s invocations (virtual time on its epoch)."""
    import pandas as pd

    from restate_lab.sim.results import invocations_frame

    sim = target.simulation
    frame = invocations_frame(sim)
    frame = frame[~frame["deduplicated"]]
    if frame.empty:
        from restate_lab.notebook.frames import invocations_frame_from_rows

        return invocations_frame_from_rows([])
    epoch = float(sim.epoch_ms)
    service, _, handler = frame["target"].astype(str).str.partition("/")[[0, 1, 2]].T.to_numpy()
    status = frame["status"].astype(str)
    final = status.isin(["completed", "failed", "killed", "cancelled"])
    modified = frame["completed"].where(final, frame["started"]).fillna(frame["submitted"])
    keys = frame["key"].astype(object).where(frame["key"].notna(), None)
    return pd.DataFrame(
        {
            "id": frame["id"].to_numpy(),
            "target": [
                f"{s}/{k}/{h}" if k is not None else f"{s}/{h}" for s, k, h in zip(service, keys, handler, strict=True)
            ],
            "target_service_name": service,
            "target_service_key": keys.to_numpy(),
            "target_handler_name": handler,
            "status": status.where(~final, "completed").to_numpy(),
            "created_at": pd.to_datetime(epoch + frame["submitted"], unit="ms", utc=True),
            "modified_at": pd.to_datetime(epoch + modified, unit="ms", utc=True),
            "retry_count": (frame["attempts"] - 1).clip(lower=0).to_numpy(),
            "idempotency_key": frame["idempotency_key"].to_numpy(),
            "completion_result": status.map(
                {"completed": "success", "failed": "failure", "killed": "failure", "cancelled": "failure"}
            ).to_numpy(),
            "completion_failure": status.map(
                {
                    "failed": "[500] terminal error (simulated failure)",
                    "killed": "[500] killed",
                    "cancelled": "[409] cancelled",
                }
            ).to_numpy(),
        }
    )


def journal(target: Any, invocation_id: str) -> pd.DataFrame:
    """``target.journal(invocation_id)``, or its ``sys_journal`` rows read through ``query``."""
    fn = getattr(target, "journal", None)
    if fn is not None:
        return fn(invocation_id)
    if hasattr(target, "simulation") or not hasattr(target, "query"):
        raise _not_supported(target, "show a journal (the simulator keeps no journal entries)")
    quoted = invocation_id.replace("'", "''")
    return target.query(f"select * from sys_journal where id = '{quoted}'")


def state(target: Any, service: str, key: str) -> dict[str, Any]:
    """``target.state(service, key)``, or the ``state`` table read through ``query``."""
    fn = getattr(target, "state", None)
    if fn is not None:
        return dict(fn(service, key))
    if hasattr(target, "simulation") or not hasattr(target, "query"):
        raise _not_supported(target, "show object state (the simulator keeps no state)")
    import json

    s, k = service.replace("'", "''"), key.replace("'", "''")
    rows = target.query(f"select key, value_utf8 from state where service_name = '{s}' and service_key = '{k}'")
    out: dict[str, Any] = {}
    for row in rows.to_dict("records"):
        try:
            out[str(row["key"])] = json.loads(row["value_utf8"])
        except (TypeError, ValueError):
            out[str(row["key"])] = row.get("value_utf8")
    return out


def manage(target: Any, action: str, invocation_id: str) -> None:
    """``target.cancel/kill/purge/resume(invocation_id)``; a target lacking the action says so."""
    fn = getattr(target, action, None)
    if fn is None:
        raise _not_supported(target, f"{action} invocations")
    fn(invocation_id)


def status(target: Any, invocation_id: str) -> str | None:
    """One invocation's status, or ``None`` when the target cannot tell."""
    fn = getattr(target, "status", None)
    if fn is None:
        return None
    try:
        return str(fn(invocation_id))
    except (KeyError, RestateError):
        return None


def sim_catalogue(services: list[Mapping[str, Any]]) -> Catalogue:
    """A simulator catalogue from any target's ``services()`` (admin spelling ``Service`` or ``SERVICE``)."""
    from restate_lab.sim.model import Catalogue

    try:
        return Catalogue.from_admin(services)
    except ValueError:
        pass
    entries = []
    for entry in services:
        ty = str(entry.get("ty", "Service"))
        handlers = [
            {"name": h["name"], "ty": str(h["ty"]).upper() if h.get("ty") else None} for h in entry.get("handlers", [])
        ]
        entries.append({"name": entry["name"], "ty": _SIM_SERVICE_TY.get(ty, ty.upper()), "handlers": handlers})
    return Catalogue.from_admin(entries)
