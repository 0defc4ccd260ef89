"""The wire: connections, the drivers that run flows, and the transports that send.

``connection`` (Connection, the drivers, the default connection), ``transport``
(the Transport interface, MockTransport), ``aws`` (the botocore/aiobotocore
transport, error translation), ``parser`` (the fast response parser). The only
layer that sends requests or sleeps.
"""
