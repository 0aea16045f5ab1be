"""Simulation results as pandas frames: invocations, per-key queue depth, Kafka records, a summary.

Frames are built from the simulation's typed columns on demand, with categoricals for repeated
strings, so a million-row frame stays a few hundred megabytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from restate_lab.sim.records import OUTCOME_NAMES, STATUS_NAMES, SUCCEEDED, RowQueueTrace

if TYPE_CHECKING:
    from restate_lab.sim.engine import Simulation

_KEY_BITS = 32


def _codes_to_categorical(codes: np.ndarray[Any, Any], names: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype=object))


def invocations_frame(sim: Simulation, *, ids: bool = True) -> pd.DataFrame:
    """One row per submission, in submission order; times in virtual ms.

    A deduplicated submission (repeated idempotency key or workflow id) carries the id, status,
    start and attempts of the invocation that answered it, ``deduplicated=True``, and ``completed`` no
    earlier than its own submission. ``queue_wait`` is the time from runnable (after any delay) to the
    first attempt. ``ids=False`` skips rendering ``inv_1…`` strings (about 13 µs a row).
    ``status`` holds Restate's status names only (a killed or failed invocation is ``completed``);
    ``completion_result`` and ``completion_failure`` are ``sys_invocation``'s (``[409] killed``, ...),
    and ``ended_by`` says how a completed one ended: ``success``, ``terminal-error``,
    ``retries-exhausted`` (killed by its retry policy), ``killed`` or ``cancelled``.
    """
    rec = sim.records
    n = len(rec)
    dedup_of = np.frombuffer(rec.dedup_of, dtype=np.int32)[:n] if n else np.zeros(0, np.int32)
    owner = np.where(dedup_of >= 0, dedup_of, np.arange(n, dtype=np.int64))
    # a repeat may point at a repeat only through a workflow id; resolve chains fully
    while n and (dedup_of[owner] >= 0).any():
        owner = np.where(dedup_of[owner] >= 0, dedup_of[owner], owner)
    submitted = np.frombuffer(rec.submitted, dtype=np.float64)[:n] if n else np.zeros(0)
    ready = np.frombuffer(rec.ready, dtype=np.float64)[:n] if n else np.zeros(0)
    started = np.frombuffer(rec.started, dtype=np.float64)[owner] if n else np.zeros(0)
    completed = np.frombuffer(rec.completed, dtype=np.float64)[owner] if n else np.zeros(0)
    dedup = dedup_of >= 0
    completed = np.where(dedup, np.maximum(completed, submitted), completed)
    status = np.frombuffer(rec.status, dtype=np.int8)[owner] if n else np.zeros(0, np.int8)
    outcome = np.frombuffer(rec.outcome, dtype=np.int8)[owner] if n else np.zeros(0, np.int8)
    completion_failure = np.full(n, None, dtype=object)
    for row in np.flatnonzero(outcome > SUCCEEDED):
        completion_failure[row] = sim.failures[int(owner[row])].render()
    handler = np.frombuffer(rec.handler, dtype=np.int32)[:n] if n else np.zeros(0, np.int32)
    key = np.frombuffer(rec.key, dtype=np.int32)[:n] if n else np.zeros(0, np.int32)
    idem = np.frombuffer(rec.idem, dtype=np.int64)[:n] if n else np.zeros(0, np.int64)
    idem_names = np.full(n, None, dtype=object)
    for row in np.flatnonzero(idem >= 0):
        idem_names[row] = sim.idem_name(int(idem[row]))
    queue_wait = np.where(dedup, np.nan, started - ready)
    columns: dict[str, Any] = {}
    if ids:
        columns["id"] = [sim.invocation_id(i) for i in range(n)]
    columns.update(
        target=_codes_to_categorical(handler, [h.target for h in sim.handlers]),
        key=_codes_to_categorical(key, sim.key_names),
        idempotency_key=idem_names,
        submitted=submitted.copy(),
        ready=np.where(dedup, np.nan, ready),
        started=started,
        completed=completed,
        attempts=np.where(dedup, 0, np.frombuffer(rec.attempts, dtype=np.int32)[owner] if n else 0),
        queue_wait=queue_wait,
        latency=completed - submitted,
        status=_codes_to_categorical(status.astype(np.int32), list(STATUS_NAMES)),
        completion_result=_codes_to_categorical(
            np.where(outcome == SUCCEEDED, 0, np.where(outcome > SUCCEEDED, 1, -1)).astype(np.int32),
            ["success", "failure"],
        ),
        completion_failure=completion_failure,
        ended_by=_codes_to_categorical(
            np.where(outcome > 0, outcome - 1, -1).astype(np.int32), list(OUTCOME_NAMES[1:])
        ),
        deduplicated=dedup,
        parent=np.frombuffer(rec.parent, dtype=np.int32)[:n].copy() if n else np.zeros(0, np.int32),
    )
    return pd.DataFrame(columns)


def queue_depth_frame(sim: Simulation) -> pd.DataFrame:
    """Per-key queue depth (running plus waiting) after every change, for keys that take a lock."""
    trace = sim.queue_trace
    if trace is None or not len(trace.change):
        return pd.DataFrame({"time": [], "service": [], "key": [], "depth": []})
    change = np.frombuffer(trace.change, dtype=np.int64)
    arrived = (change & 1).astype(bool)
    if isinstance(trace, RowQueueTrace):  # the simulator's: row codes, key and time from the records
        rec = sim.records
        rows = change >> 1
        handler_service = np.array([h.service_index for h in sim.handlers], dtype=np.int64)
        key_codes = np.frombuffer(rec.key, dtype=np.int32)[rows].astype(np.int64)
        lock = handler_service[np.frombuffer(rec.handler, dtype=np.int32)[rows]] << _KEY_BITS | key_codes
        ready = np.frombuffer(rec.ready, dtype=np.float64)[rows]
        time = np.where(arrived, ready, np.frombuffer(rec.completed, dtype=np.float64)[rows])
    else:
        lock = change >> 1
        time = np.frombuffer(trace.time, dtype=np.float64).copy()
    delta = np.where(arrived, 1, -1).astype(np.int32)
    depth = pd.Series(delta).groupby(lock).cumsum().to_numpy(dtype=np.int32)
    service = (lock >> _KEY_BITS).astype(np.int32)
    key = (lock & ((1 << _KEY_BITS) - 1)).astype(np.int32)
    return pd.DataFrame(
        {
            "time": time,
            "service": _codes_to_categorical(service, sim.service_names),
            "key": _codes_to_categorical(key, sim.key_names),
            "depth": depth,
        }
    )


def kafka_frame(sim: Simulation) -> pd.DataFrame:
    """One row per ingested Kafka record: topic, partition, offset, produced, and its invocation row."""
    t = sim.kafka_trace
    rows = np.frombuffer(t.row, dtype=np.int64) if len(t.row) else np.zeros(0, np.int64)
    rec = sim.records
    return pd.DataFrame(
        {
            "row": rows,
            "topic": _codes_to_categorical(np.frombuffer(t.topic, dtype=np.int32), t.topics)
            if len(t.topic)
            else pd.Categorical([]),
            "partition": np.array(t.partition, dtype=np.int32),
            "offset": np.array(t.offset, dtype=np.int64),
            "produced": np.array(t.produced, dtype=np.float64),
            "submitted": np.array([rec.submitted[r] for r in rows], dtype=np.float64),
            "started": np.array([rec.started[r] for r in rows], dtype=np.float64),
            "completed": np.array([rec.completed[r] for r in rows], dtype=np.float64),
        }
    )


def consumer_lag_frame(sim: Simulation) -> pd.DataFrame:
    """Consumer lag (records produced, not yet ingested) per topic partition after every change."""
    t = sim.kafka_trace
    return pd.DataFrame(
        {
            "time": np.array(t.lag_time, dtype=np.float64),
            "topic": [t.topics[c] for c in t.lag_topic],
            "partition": np.array(t.lag_partition, dtype=np.int32),
            "lag": np.array(t.lag_value, dtype=np.int64),
        }
    )


def summary_frame(sim: Simulation, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per target and overall: counts, throughput, latency percentiles, queue wait, utilisation.

    Latency is ``completed - submitted`` of invocations that ran (deduplicated submissions are
    counted but not timed). ``littles_L`` is the time-average number of invocations in the system,
    measured by integrating the count; ``lambda_W`` is arrival rate times mean latency. They agree
    (Little's law) whenever every invocation has finished by the end of the run.
    """
    if frame is None:
        frame = invocations_frame(sim, ids=False)
    horizon_s = max(sim.now, 1e-12) / 1000.0
    rows = []
    groups: list[tuple[str, pd.DataFrame]] = [(str(t), g) for t, g in frame.groupby("target", observed=True)]
    groups.append(("all", frame))
    for target, group in groups:
        ran = group[~group["deduplicated"]]
        done = ran[ran["status"] == "completed"]
        latency = ran["latency"].dropna()
        row: dict[str, Any] = {
            "target": target,
            "submitted": len(group),
            "invocations": len(ran),
            "deduplicated": int(group["deduplicated"].sum()),
            "completed": len(done),
            "failed": int((ran["ended_by"] == "terminal-error").sum()),
            "paused": int((ran["status"] == "paused").sum()),
            "killed": int(ran["ended_by"].isin(["retries-exhausted", "killed"]).sum()),
            "cancelled": int((ran["ended_by"] == "cancelled").sum()),
            "mean_attempts": float(ran["attempts"].mean()) if len(ran) else float("nan"),
            "throughput_per_s": len(done) / horizon_s,
            "mean_latency_ms": float(latency.mean()) if len(latency) else float("nan"),
            "p50_latency_ms": float(latency.quantile(0.50)) if len(latency) else float("nan"),
            "p95_latency_ms": float(latency.quantile(0.95)) if len(latency) else float("nan"),
            "p99_latency_ms": float(latency.quantile(0.99)) if len(latency) else float("nan"),
            "mean_queue_wait_ms": float(ran["queue_wait"].mean()) if len(ran) else float("nan"),
        }
        if target == "all":
            row["littles_L"] = sim.in_system_area() / max(sim.now, 1e-12)
            row["lambda_W"] = len(ran) / max(sim.now, 1e-12) * row["mean_latency_ms"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("target")


def utilisation_frame(sim: Simulation) -> pd.DataFrame:
    """Per service deployment: mean busy slots and, when limited, the share of its slots in use."""
    horizon = max(sim.now, 1e-12)
    rows = []
    for name, deployment in sim.deployments.items():
        busy = sim.busy_area(name) / horizon
        limit = deployment.limit
        rows.append(
            {
                "service": name,
                "concurrency": limit,
                "mean_busy": busy,
                "utilisation": busy / limit if limit else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("service")
