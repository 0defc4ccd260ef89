"""Integration tests: run against DynamoDB Local (see ``tests/conftest.py``)."""
