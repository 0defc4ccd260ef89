"""Single-table design: several entities in one table.

- :mod:`.entities`: which entities a table holds, the entity filter, the checks
  between models of one table, the shared table's schema;
- :mod:`.templates`: key templates bound to a model's fields (keys from parts,
  the attributes an update implies);
- :mod:`.unique`: unique fields and their guard items;
- :mod:`.collection`: reading several entities with one Query.
"""
