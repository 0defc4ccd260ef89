"""Field-level encryption: key providers and re-encryption, ``dynamodb.encryption``.

Encrypt an attribute with :class:`dynamodb.EncryptedField` and a key provider::

    import os
    from dynamodb import CharField, EncryptedField, Model
    from dynamodb.encryption import StaticKeys

    keys = StaticKeys({"k1": os.urandom(32)})

    class Patient(Model):
        id = CharField(hash_key=True)
        diagnosis = EncryptedField(CharField(), keys=keys)

- :class:`StaticKeys` holds AES-256 keys in memory, by id (local use, tests, or
  keys loaded from a secret store);
- :class:`KmsKeys` does envelope encryption with AWS KMS (a data key from
  GenerateDataKey per ``max_uses`` values or ``max_age`` seconds; Decrypt to read,
  cached likewise);
- any object with the methods of :class:`KeyProvider` serves as well.

:func:`reencrypt` (and :func:`areencrypt`) moves values written under older keys
to the current one, item by item or over a model's table.
"""

from __future__ import annotations

from dynamodb.core.envelope import DataKey, KeyProvider, StaticKeys
from dynamodb.models.sealing import areencrypt, reencrypt
from dynamodb.wire.kms import KmsKeys

__all__ = ["DataKey", "KeyProvider", "KmsKeys", "StaticKeys", "areencrypt", "reencrypt"]
