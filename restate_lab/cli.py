"""``restate-lab``: serve restate-sdk services with an in-process Restate ingress and admin API."""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.util
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from restate_lab.runtime.apps import TargetError, as_app

DEMO_TARGET = "restate_lab.examples.demo:app"
__all__ = ["TargetError", "as_app", "build_parser", "load_target", "main"]


def load_target(spec: str) -> Any:
    """Load ``path/to/file.py:attr`` or ``package.module:attr`` and turn it into an ASGI app."""
    module_part, _, attr = spec.partition(":")
    if not module_part:
        raise TargetError(f"cannot read target {spec!r}: expected path/to/file.py:attr or package.module:attr")
    if module_part.endswith(".py") or "/" in module_part:
        path = Path(module_part)
        if not path.is_file():
            raise TargetError(f"no such file: {module_part}")
        sys.path.insert(0, str(path.resolve().parent))
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise TargetError(f"cannot import {module_part}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[path.stem] = module
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(module_part)
        except ImportError as exc:
            raise TargetError(f"cannot import {module_part}: {exc}") from exc
    names = [attr] if attr else ["app", "application", "services"]
    for name in names:
        if hasattr(module, name):
            return as_app(getattr(module, name), f"{module_part}:{name}")
    raise TargetError(f"{module_part} has no attribute {' or '.join(repr(n) for n in names)}")


#: Young collections every 2 000 allocations, middle ones every 10 of those: each looks at a few thousand
#: objects (well under a millisecond, a few at most). What survives a middle collection is frozen (below).
SERVE_GC_THRESHOLDS = (2_000, 10, 100)
#: A full collection once the frozen heap may have grown this many times over (an upper bound: see below).
SERVE_FULL_COLLECTION_GROWTH = 4


class ServingCollector:
    """The garbage collector's policy for a server process (the CLI owns the process; notebooks do not).

    A server retains every completed invocation for a day, as Restate Server does, so almost all that
    survives a request is kept. CPython's collector looks at those survivors again and again: with its
    default thresholds in every middle collection and in full collections once the heap grew by a
    quarter (pauses of 40-130 ms under load, growing with the heap, the whole p99 tail of
    ``restate-lab serve``). Here what start-up imported and what survives each middle collection is
    frozen (``gc.freeze()``): later collections never look at it, and every pause stays within a few
    milliseconds. The cost is that a reference cycle among frozen objects is freed only by a full
    collection: :meth:`tick` runs one once as many middle collections have passed as could have grown
    the frozen heap ``SERVE_FULL_COLLECTION_GROWTH`` times over (each adds at most the allocations
    between two of them), and only while the process is idle (no young collection since the previous
    tick): a full collection of a large heap takes 0.1-0.5 s, which under load is the p99 of every
    request in flight. Measured: about one cyclic object per three requests waits for it, against the
    kilobytes each retained invocation holds anyway. ``gc.get_freeze_count()`` walks the whole frozen
    heap, so it is asked only after a full collection, never per tick.
    """

    #: The frozen heap start-up leaves is counted as at least this many objects.
    min_baseline = 100_000

    def __init__(self) -> None:
        self._freezes = 0
        self._freezes_allowed = 0
        self._young = 0
        self._young_at_tick = 0

    def install(self) -> ServingCollector:
        gc.collect()
        gc.freeze()  # what start-up imported stays out of every later collection
        gc.set_threshold(*SERVE_GC_THRESHOLDS)
        self._allow(gc.get_freeze_count())
        gc.callbacks.append(self._after_collection)
        return self

    def _allow(self, frozen: int) -> None:
        young, middle, _ = SERVE_GC_THRESHOLDS
        self._freezes = 0
        self._freezes_allowed = (SERVE_FULL_COLLECTION_GROWTH - 1) * max(frozen, self.min_baseline) // (young * middle)

    def _after_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase != "stop":
            return
        if info["generation"] == 0:
            self._young += 1
        else:
            gc.freeze()  # the survivors are retained invocations: no later collection looks at them again
            self._freezes += 1

    def tick(self) -> None:
        """Called every half second off the serving loop: a full collection if one is due and all is quiet."""
        busy = self._young != self._young_at_tick
        self._young_at_tick = self._young
        if not busy and self._freezes > self._freezes_allowed:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._allow(gc.get_freeze_count())

    def uninstall(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._after_collection)


def tune_gc_for_serving() -> ServingCollector:
    """Install :class:`ServingCollector` for this process; returns it (call its ``tick`` now and then)."""
    return ServingCollector().install()


class _Stop(Exception):
    """SIGTERM or SIGHUP asked the command to stop (handled like Ctrl-C)."""


def _stop_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into a clean stop, so a killed terminal or ``kill`` leaves nothing behind.

    SIGINT gets Python's own handler back (Ctrl-C raises KeyboardInterrupt) even when the command was
    started with it ignored, as a shell does for a background job or ``nohup``: ``kill -INT`` must stop
    the server then too, as it does uvicorn.
    """

    def stop(signum: int, _frame: object) -> None:
        raise _Stop(signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _ignore_stop_signals() -> None:
    """While shutting down, a second signal must not cut the shutdown short."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)


def _serve(args: argparse.Namespace, target: str) -> int:
    from restate_lab.ingress.server import LabServer
    from restate_lab.runtime.local import LocalRestate

    try:
        app = load_target(target)
    except TargetError as exc:
        print(f"restate-lab: {exc}", file=sys.stderr)
        return 2
    collector = tune_gc_for_serving()
    options: dict[str, Any] = {"clock": "virtual"} if args.virtual_time else {}
    lab = LocalRestate(app, data_dir=args.data_dir, http2=False if args.request_response else None, **options)
    try:
        server = LabServer(
            lab, host=args.host, port=args.port, admin_port=args.admin_port, log_level=args.log_level
        ).start()
    except OSError as exc:
        lab.close()
        print(f"restate-lab: {exc}", file=sys.stderr)
        return 1
    names = ", ".join(sorted(lab.engine.services))
    print(f"restate-lab serving {names}")
    if args.data_dir is not None:
        print(f"  data:    {args.data_dir} (durable)")
    if args.virtual_time:
        print("  time:    virtual (skips ahead to the next timer whenever nothing runs)")
    print(f"  ingress: {server.ingress_url}")
    print(f"  admin:   {server.admin_url}")
    print("Press Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    _stop_on_signals()
    try:
        while not stop.wait(0.5):
            collector.tick()
    except (KeyboardInterrupt, _Stop):
        _ignore_stop_signals()  # a second Ctrl-C (or SIGTERM) must not cut the shutdown short
        print("\nstopping")
    finally:
        _ignore_stop_signals()
        server.stop()
        lab.close()
        collector.uninstall()
    return 0


def _real(args: argparse.Namespace) -> int:
    """Serve TARGET through the real Restate Server (npm binary) instead of restate_lab's runtime.

    Ctrl-C, SIGTERM and SIGHUP stop the server and remove its temp dir; a SIGKILL of this command
    takes the server with it on Linux (see ``restate_lab.server.harness``).
    """
    from restate_lab.server import RestateServer, RestateServerNotInstalled
    from restate_lab.server.harness import RestateServerError

    try:
        app = load_target(args.target)
    except TargetError as exc:
        print(f"restate-lab: {exc}", file=sys.stderr)
        return 2
    _stop_on_signals()
    try:
        with RestateServer.start(app, ingress_port=args.port, admin_port=args.admin_port) as real:
            print(f"Restate Server ({real.binary}) serving {args.target}")
            print(f"  ingress: {real.ingress_url}")
            print(f"  admin:   {real.admin_url}")
            print(f"  server:  pid {real.pid}, base dir {real.base_dir}")
            print("Press Ctrl-C to stop.", flush=True)
            try:
                while True:
                    time.sleep(0.5)
            except (KeyboardInterrupt, _Stop):
                _ignore_stop_signals()
                print("\nstopping", flush=True)
    except _Stop:  # a signal during start-up: the with block has already stopped what had started
        return 0
    except (RestateServerNotInstalled, RestateServerError) as exc:
        print(f"restate-lab: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="restate-lab", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    for name, help_text in (("serve", "serve the services in TARGET"), ("demo", "serve the bundled demo services")):
        cmd = sub.add_parser(name, help=help_text)
        if name == "serve":
            cmd.add_argument("target", help="path/to/file.py:attr or package.module:attr")
        cmd.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        cmd.add_argument("--port", type=int, default=8080, help="ingress port (default 8080)")
        cmd.add_argument("--admin-port", type=int, default=9070, help="admin API port (default 9070)")
        cmd.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
        cmd.add_argument(
            "--data-dir",
            default=None,
            help="durable mode: keep invocations, journals and state in DIR (SQLite) and resume "
            "unfinished invocations on start; in-memory when omitted",
        )
        cmd.add_argument(
            "--virtual-time",
            action="store_true",
            help="run on virtual time: whenever nothing runs, time skips to the next sleep, "
            "delayed send or back-off (a 30-day sleep ends at once)",
        )
        cmd.add_argument(
            "--request-response",
            action="store_true",
            help="drive the services in request-response mode (a suspension at every await the "
            "runtime cannot answer at once) instead of as bidirectional streams, the default",
        )
    real = sub.add_parser("real", help="serve TARGET through the real Restate Server (the oracle)")
    real.add_argument("target", help="path/to/file.py:attr or package.module:attr")
    real.add_argument("--port", type=int, default=None, help="ingress port (default: a free port)")
    real.add_argument("--admin-port", type=int, default=None, help="admin port (default: a free port)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["demo", *(argv or [])])
    if args.command == "serve":
        return _serve(args, args.target)
    if args.command == "real":
        return _real(args)
    return _serve(args, DEMO_TARGET)


if __name__ == "__main__":
    sys.exit(main())
