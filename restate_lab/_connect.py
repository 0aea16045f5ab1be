"""``connect(x)``: open the target that fits what the user has in hand.

A notebook starts from an app, a simulation or a URL; ``connect`` turns each into the matching
:class:`~restate_lab.api.IngressApi` so the cells after it never change.
"""

from __future__ import annotations

from typing import Any

from restate_lab.api import DEFAULT_TIMEOUT, IngressApi


def connect(
    x: Any, *, admin_url: str | None = None, timeout: float | None = DEFAULT_TIMEOUT, **options: Any
) -> IngressApi:
    """The target for ``x``, ready to use (close it, or use it as a context manager).

    * an ingress URL (``"http://127.0.0.1:8080"``, with ``admin_url=`` for managing and frames)
      → :class:`~restate_lab.server.RestateClient` (``restate-lab serve`` or a real Restate Server);
    * a :class:`~restate_lab.Simulation` → :class:`~restate_lab.SimulatedRestate` (virtual time);
    * a restate-sdk app, a service/object/workflow or a list of them, or ``"path/to/file.py:attr"`` /
      ``"package.module:attr"`` as ``restate-lab serve`` takes it → :class:`~restate_lab.LocalRestate`
      (``options`` go to it, e.g. ``data_dir=``);
    * a target already → itself.

    >>> import restate
    >>> svc = restate.Service("Hello")
    >>> @svc.handler()
    ... async def hi(ctx: restate.Context) -> str:
    ...     return "hi"
    >>> with connect(svc) as target:
    ...     target.call("Hello", "hi")
    'hi'
    """
    from restate_lab.runtime.local import LocalRestate
    from restate_lab.sim.engine import Simulation
    from restate_lab.sim.facade import SimulatedRestate

    if isinstance(x, str) and x.startswith(("http://", "https://")):
        from restate_lab.server.client import RestateClient

        return RestateClient(x, admin_url, timeout=timeout)
    if admin_url is not None:
        raise TypeError(f"admin_url= goes with an ingress URL, not with {type(x).__name__}")
    if isinstance(x, Simulation):
        return SimulatedRestate(x, timeout=timeout)
    if isinstance(x, IngressApi):
        return x
    if isinstance(x, str):
        from restate_lab.cli import load_target

        return LocalRestate(load_target(x), timeout=timeout, **options)
    return LocalRestate(x, timeout=timeout, **options)
