"""The pure core: request builders, response readers and multi-step flows.

Nothing here does I/O, imports botocore, or imports the model layer: each
module turns values into DynamoDB request dicts or reads response dicts, and
multi-step operations are generators (flows) that the wire layer runs.
"""
