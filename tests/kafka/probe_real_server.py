"""Print the Kafka admin exchanges of Restate Server 1.7.12 as the Markdown table in the docs.

python -m tests.kafka.probe_real_server            # needs restate-server and tansu installed
"""

from __future__ import annotations

import sys

from restate_lab.kafka.broker import TansuBroker
from restate_lab.server import RestateServer
from tests.kafka.apps import app
from tests.kafka.exchanges import run_admin_exchanges


def main() -> None:
    with TansuBroker() as broker, RestateServer.start(app) as server:
        rows = run_admin_exchanges(server.admin_url, broker.bootstrap_servers)
    print("| request | status | body | notable headers |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print(row.markdown())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
