"""Benchmarks of dynamodb-py against PynamoDB, raw boto3, dyntastic and a hand-written floor.

Run ``make bench`` (its own virtualenv in ``bench/.venv``) or, in an environment
that has the peers, ``python -m bench [--quick]``. See ``bench/README.md``.
"""
