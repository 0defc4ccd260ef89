"""Test suite for dynamodb-py.

This is a package so that ``python -m tests.support.dynamodb_local`` works from
the repository root and so that test modules in different folders never clash.
"""
