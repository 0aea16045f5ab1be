"""The real Restate Server as an oracle: a harness that starts the binary, and an HTTP client.

The imitation ingress and the in-process runtime are checked against what the real server
answers, and notebooks can switch from the runtime to a real server without changing cells.

Install the pinned server once with ``scripts/install-restate-server.sh`` (npm package
``@restatedev/restate-server@1.7.12`` into ``.cache/restate-server/``), or set
``RESTATE_SERVER_BIN``. Then::

    import restate
    from restate_lab.server import RestateServer, RestateClient

    greeter = restate.Service("Greeter")

    @greeter.handler()
    async def greet(ctx: restate.Context, name: str) -> str:
        return f"Hello {name}!"

    with RestateServer.start(restate.app([greeter])) as srv:   # temp dir, free loopback ports
        srv.client.call("Greeter", "greet", "Ada")               # -> "Hello Ada!"
        receipt = srv.client.send("Greeter", "greet", "Bob", delay="2s")
        srv.client.attach(receipt.invocation_id)                 # waits ~2 s -> "Hello Bob!"
        srv.client.query("select id, status from sys_invocation")  # pandas.DataFrame

    # Against a server started elsewhere:
    client = RestateClient("http://127.0.0.1:8080", "http://127.0.0.1:9070")

``RestateServer.start`` raises :class:`RestateServerNotInstalled` (with the install command) when
no binary is found. What the real server answers, request by request, is recorded in
``docs/observed-restate-1.7.12.md`` (regenerate with ``scripts/probe_real_server.py``).
"""

from restate_lab.server.binary import RestateServerNotInstalled
from restate_lab.server.client import RestateClient
from restate_lab.server.harness import RestateServer

__all__ = ["RestateClient", "RestateServer", "RestateServerNotInstalled"]
