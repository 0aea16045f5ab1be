"""SQL introspection on DataFusion over Arrow tables shaped like Restate Server 1.7.12's.

``schemas`` (the tables, pure data), ``references`` (what a query can see), ``snapshot`` (the engine's
state as Arrow, at one instant), ``cache`` (completed invocations' columns, kept between queries),
``session`` (DataFusion, configured and refusing as the server does), ``render`` (JSON rows and Arrow IPC
as the server writes them), ``frames`` (pandas). pyarrow and datafusion are imported only when a query runs.
"""
