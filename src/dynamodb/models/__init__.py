"""The model layer: Model and its metadata, fields, schema, and every item operation."""
