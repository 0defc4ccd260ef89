"""Unit tests: no DynamoDB endpoint needed (except the DynamoDB Local self-test)."""
