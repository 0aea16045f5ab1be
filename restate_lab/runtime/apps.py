"""What counts as servable services: one rule for ``LocalRestate(...)`` and ``restate-lab serve``.

A restate-sdk app (``restate.app([...])``, or any ASGI callable), one service/object/workflow, or a
list of them are all accepted, so a notebook and the command line take the same things.
"""

from __future__ import annotations

from typing import Any


class TargetError(Exception):
    """Something that does not name servable services (or a ``file.py:attr`` that cannot be loaded)."""


def service_kinds() -> tuple[type, ...]:
    """The restate-sdk classes a service definition can be (imported on use)."""
    import restate

    return (restate.Service, restate.VirtualObject, restate.Workflow)


def as_app(obj: Any, where: str | None = None) -> Any:
    """An ASGI app from ``restate.app(...)``, a service/object/workflow, or a list or tuple of them.

    ``where`` names the object in the error (e.g. ``app.py:services``); ``TargetError`` otherwise.
    """
    kinds = service_kinds()
    if isinstance(obj, kinds):
        obj = [obj]
    if isinstance(obj, list | tuple) and obj and all(isinstance(o, kinds) for o in obj):
        import restate

        return restate.app(list(obj))
    if callable(obj) and not isinstance(obj, type):
        return obj
    what = where or type(obj).__name__
    raise TargetError(
        f"{what} is neither an app from restate.app(...) nor services "
        "(a service, virtual object or workflow, or a list of them)"
    )
