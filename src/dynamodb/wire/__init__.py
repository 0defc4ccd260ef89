"""The wire: connections, the drivers that run flows, response parsing, error translation.

The only layer that sends requests or sleeps.
"""
