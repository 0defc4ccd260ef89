"""Signals for code outside the models (blinker): sent with the model class as sender.

``pre_save``, ``post_save``, ``pre_delete``, ``post_delete`` and ``post_load`` are
sent after the model's own hook of the same moment, with the item as ``item``::

    from dynamodb import signals

    @signals.post_save.connect_via(Order)
    def audit(sender, item):
        ...
"""

from __future__ import annotations

from dynamodb.models.lifecycle import post_delete, post_load, post_save, pre_delete, pre_save

__all__ = ["post_delete", "post_load", "post_save", "pre_delete", "pre_save"]
