"""Testing your own DynamoDB code: faults on demand, a request recorder, servers and fixtures.

- :func:`faults`: a block in which requests meet throttling, trimmed batches,
  500s, dropped connections, delays and cancelled transactions, at the shares
  you give, reproducibly for a seed; ``f.injected`` counts what was injected.
- :func:`record`: a block that lists each request sent
  (:class:`~dynamodb.testing.calls.Call`: ``.operation``, ``.table``,
  ``.index``, ``.key_condition``, ``.filter``, ``.items``).
- :func:`start_server` / :class:`MotoServer`: DynamoDB Local, or moto's threaded
  server in this process (no Java).
- The pytest plugin (:mod:`dynamodb.testing.plugin`, registered when the
  package is installed; pytest and moto's server come with the ``testing``
  extra) gives the fixtures ``dynamodb_endpoint``, ``dynamodb_connection`` and
  ``dynamodb_tables``.

Both blocks work in the transport path: every connection, whatever its
transport, sync and async, in the block's thread or task and what that starts.
Importing this package imports neither pytest nor moto.
"""

from __future__ import annotations

from dynamodb.testing.calls import Call
from dynamodb.testing.faults import CANCEL_REASONS, DATA_PLANE, FAULTS, Faults, faults
from dynamodb.testing.recorder import Recording, record
from dynamodb.testing.servers import KINDS, MotoServer, RunningServer, start_server

__all__ = [
    "CANCEL_REASONS",
    "DATA_PLANE",
    "FAULTS",
    "KINDS",
    "Call",
    "Faults",
    "MotoServer",
    "Recording",
    "RunningServer",
    "faults",
    "record",
    "start_server",
]
