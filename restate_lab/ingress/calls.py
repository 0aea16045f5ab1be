"""Invocation requests answered without the ASGI layer: the ingress's hot path on HTTP/1.1.

``POST /Greeter/greet`` is most of what an ingress serves. The HTTP/1.1 protocol
(:mod:`restate_lab.ingress.http1`) hands such a request here whole, headers and body, and gets
its answer as a :class:`~restate_lab.ingress.replies.Reply` through a callback: at once for an
error, a send or a stored result, else from the engine's completion hook. No ASGI task, receive
or send and no future per request. The rules are the ASGI app's own (:func:`check_call`,
:func:`accept_call`, :func:`result_reply`), called in the same order, so both paths answer alike;
everything else (``/restate/...``, HEAD, OPTIONS, streamed bodies, HTTP/2) takes the ASGI app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from restate_lab.ingress.app import invocation_target
from restate_lab.ingress.asgi import Scope, error_reply
from restate_lab.ingress.invoke import accept_call, check_call, result_reply
from restate_lab.ingress.paths import request_path
from restate_lab.ingress.replies import Reply
from restate_lab.ingress.restate_routes import NOT_FOUND
from restate_lab.protocol.messages import Result
from restate_lab.rules.errors import RestateError
from restate_lab.runtime.engine import Engine
from restate_lab.runtime.invocation import Invocation

log = logging.getLogger("restate_lab.ingress")

ReplySink = Callable[[Reply], None]
"""Where an answer goes: called once, on the engine's loop, with the reply to write."""


def _internal_error(scope: Scope, exc: Exception) -> Reply:
    log.error("ingress failed on %s %r", scope.get("method"), scope.get("raw_path"), exc_info=exc)
    return error_reply(RestateError(500, f"internal error in restate_lab: {exc!r}"))


class CallAnswers:
    """Answers invocation requests (``/{Service}/{handler}[/send]``, keyed forms) on the engine's loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, scope: Scope, body: bytes, answer: ReplySink) -> None:
        """Take the request in ``scope`` with its whole ``body``; ``answer`` gets the reply exactly once."""
        engine = self.engine
        try:
            _shown, parts = request_path(scope["raw_path"])
            if parts[0] == "openapi":
                raise NOT_FOUND
            target, is_send = invocation_target(engine, parts)
            handler, idempotency_key = check_call(engine, scope, target)
            outcome = accept_call(engine, scope, target, handler, idempotency_key, body, is_send=is_send)
        except RestateError as err:
            answer(error_reply(err))
            return
        except Exception as exc:  # never let a bug take the ingress down
            answer(_internal_error(scope, exc))
            return
        if isinstance(outcome, Reply):
            answer(outcome)
            return
        inv, stored = outcome

        def completed(inv: Invocation, result: Result) -> None:
            # Runs inside the engine's completion: nothing may escape into it.
            try:
                reply = result_reply(engine, inv, result, stored=stored)
            except Exception as exc:
                reply = _internal_error(scope, exc)
            try:
                answer(reply)
            except Exception as exc:
                log.error("could not write an ingress answer", exc_info=exc)

        engine.when_complete(inv, completed)
