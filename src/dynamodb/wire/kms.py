"""KmsKeys: envelope encryption with AWS KMS, through botocore's KMS client.

Each new data key comes from ``GenerateDataKey`` (a 256-bit key, in plaintext and
wrapped under the KMS key); values are encrypted locally with the plaintext key and
store the wrapped one. Reading a value sends its wrapped key to ``Decrypt``. Both
are cached, bounded in age (``max_age`` seconds) and in uses (``max_uses``
encryptions per data key; ``max_uses`` reads per unwrapped key), and the read
cache in entries (``max_cached``); the cache is shared by the threads of a
process and locked. botocore is imported when the first key is needed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dynamodb.core.envelope import DataKey
from dynamodb.core.errors import InvalidArgument, MissingDependency

__all__ = ["KmsKeys"]


class KmsKeys:
    """Keys from AWS KMS: ``KmsKeys("alias/app-data", region_name="eu-west-1")``.

    ``key_id`` is the KMS key new values are encrypted under (a key id, ARN, alias
    name or alias ARN). The client is botocore's, made from ``endpoint_url``,
    ``region_name`` and the keys given, else from the standard credential chain
    (environment, config files, instance roles). A data key is used for at most
    ``max_age`` seconds and ``max_uses`` values, then a new one is generated; an
    unwrapped key read from a stored value is kept as long (at most
    ``max_cached`` of them). ``encryption_context`` is sent with every KMS call
    (and so must be the same to read). ``calls`` counts the KMS calls made, by
    operation.

    Values are read only if the key id they name (the ARN KMS returned when they
    were written) is this provider's: the ARN of ``key_id`` or one of
    ``previous``; any other is a DecryptionError before KMS is asked, so a writer
    of the table cannot make the reader decrypt under another KMS key it may use.

    To rotate, enable KMS's automatic rotation (nothing to do here: the key id
    stays), or point ``key_id`` at a new key, pass the old key's ARN in
    ``previous=`` (keeping it usable for Decrypt), and run ``reencrypt()``.

    KMS calls are made synchronously, when a cache misses. The async calls of
    models (``aget``, ``asave``, async queries, batches and transactions) make
    them in the event loop's executor first (:meth:`aprefetch` for the data keys
    an answer holds, :meth:`arefresh` for a write key that is due), so the loop
    is not blocked; only the first write of a process blocks it, once, unless
    ``await keys.awarm()`` ran before.
    """

    def __init__(
        self,
        key_id: str,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        *,
        previous: Iterable[str] = (),
        max_age: float = 300.0,
        max_uses: int = 10_000,
        max_cached: int = 1_000,
        encryption_context: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(key_id, str) or not key_id:
            raise InvalidArgument(f"KmsKeys needs a KMS key id, ARN or alias, not {key_id!r}")
        if max_age <= 0 or max_uses < 1 or max_cached < 1:
            raise InvalidArgument("KmsKeys: max_age, max_uses and max_cached must be positive")
        previous = (previous,) if isinstance(previous, str) else tuple(previous)
        if not all(isinstance(arn, str) and arn for arn in previous):
            raise InvalidArgument(f"KmsKeys(previous=...) takes KMS key ARNs, not {previous!r}")
        self.key_id = key_id
        self.previous: frozenset[str] = frozenset(previous)
        """The ARNs of older KMS keys whose values still read (rotation)."""
        self.max_age = float(max_age)
        self.max_uses = int(max_uses)
        self.max_cached = int(max_cached)
        self.encryption_context = dict(encryption_context or {})
        self.calls: dict[str, int] = {"GenerateDataKey": 0, "Decrypt": 0, "DescribeKey": 0}
        self._settings = {
            "endpoint_url": endpoint_url,
            "region_name": region_name,
            "aws_access_key_id": aws_access_key_id,
            "aws_secret_access_key": aws_secret_access_key,
            "aws_session_token": aws_session_token,
        }
        self._clock = clock
        self._lock = threading.Lock()
        self._client_object: Any = None
        self._current: tuple[DataKey, float, int] | None = None  # key, made at, uses
        self._unwrapped: OrderedDict[tuple[str, bytes], tuple[bytes, float, int]] = OrderedDict()
        self._arns: set[str] = {key_id}

    def _client(self) -> Any:
        if self._client_object is None:
            try:
                import botocore.session
            except ImportError:
                raise MissingDependency("KmsKeys needs botocore: pip install botocore") from None
            settings = {name: value for name, value in self._settings.items() if value is not None}
            self._client_object = botocore.session.get_session().create_client("kms", **settings)
        return self._client_object

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        if self.encryption_context and operation != "DescribeKey":
            params["EncryptionContext"] = self.encryption_context
        client = self._client()
        self.calls[operation] += 1
        method = {"GenerateDataKey": "generate_data_key", "Decrypt": "decrypt"}.get(
            operation, "describe_key"
        )
        response: dict[str, Any] = getattr(client, method)(**params)
        return response

    def encryption_key(self) -> DataKey:
        """The data key for new values (a new one from GenerateDataKey when due)."""
        with self._lock:
            now = self._clock()
            current = self._current
            if (
                current is not None
                and now - current[1] < self.max_age
                and current[2] < self.max_uses
            ):
                self._current = (current[0], current[1], current[2] + 1)
                return current[0]
            response = self._call("GenerateDataKey", KeyId=self.key_id, KeySpec="AES_256")
            key = DataKey(
                str(response["KeyId"]),
                bytes(response["Plaintext"]),
                bytes(response["CiphertextBlob"]),
            )
            self._arns.add(key.key_id)
            self._current = (key, now, 1)
            self._keep((key.key_id, key.wrapped), key.key, now)
            return key

    def decryption_key(self, key_id: str, wrapped: bytes) -> bytes:
        """The plaintext of a stored value's wrapped data key (Decrypt on a cache miss)."""
        if not wrapped:
            raise LookupError("the value holds no wrapped data key (it was not written by KmsKeys)")
        entry_key = (key_id, bytes(wrapped))
        with self._lock:
            if key_id not in self.previous and not self._is_own(key_id):
                raise LookupError(
                    f"the value names KMS key {key_id!r}, which is neither this provider's key "
                    f"({self.key_id!r}) nor one of its previous= keys"
                )
            now = self._clock()
            entry = self._unwrapped.get(entry_key)
            if entry is not None and self._fresh(now, entry[1], entry[2]):
                self._unwrapped[entry_key] = (entry[0], entry[1], entry[2] + 1)
                self._unwrapped.move_to_end(entry_key)
                return entry[0]
            response = self._call("Decrypt", CiphertextBlob=bytes(wrapped), KeyId=key_id)
            key = bytes(response["Plaintext"])
            self._keep(entry_key, key, now)
            return key

    def _fresh(self, now: float, made: float, uses: int) -> bool:
        return now - made < self.max_age and uses < self.max_uses

    def _keep(self, entry_key: tuple[str, bytes], key: bytes, now: float) -> None:
        self._unwrapped[entry_key] = (key, now, 0)
        self._unwrapped.move_to_end(entry_key)
        while len(self._unwrapped) > self.max_cached:
            self._unwrapped.popitem(last=False)

    def is_current(self, key_id: str) -> bool:
        """Whether ``key_id`` (as stored: the KMS key's ARN) is the key new values use."""
        with self._lock:
            return self._is_own(key_id)

    def _is_own(self, key_id: str) -> bool:
        """Whether ``key_id`` is the ARN of this provider's key (the lock held)."""
        if key_id in self._arns:
            return True
        if len(self._arns) == 1:  # the ARN of key_id is not known yet: ask KMS once
            response = self._call("DescribeKey", KeyId=self.key_id)
            self._arns.add(str(response["KeyMetadata"]["Arn"]))
        return key_id in self._arns

    def write_key_due(self) -> bool:
        """Whether the next encryption would call GenerateDataKey although this provider
        encrypted before (a reading-only process is never made to generate keys)."""
        with self._lock:
            current = self._current
            return current is not None and not self._fresh(self._clock(), current[1], current[2])

    def missing(self, wrapped: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """The (key id, wrapped key) pairs whose reading would call Decrypt."""
        with self._lock:
            now = self._clock()
            missing = []
            for entry_key in dict.fromkeys(wrapped):
                entry = self._unwrapped.get(entry_key)
                if entry is None or not self._fresh(now, entry[1], entry[2]):
                    missing.append(entry_key)
            return missing

    async def aprefetch(self, wrapped: Iterable[tuple[str, bytes]]) -> None:
        """Unwrap these data keys in the event loop's executor, into the cache (what KMS
        refuses is left for the read itself to report)."""
        import asyncio

        pairs = list(wrapped)
        await asyncio.get_running_loop().run_in_executor(None, self._unwrap_quietly, pairs)

    def _unwrap_quietly(self, pairs: list[tuple[str, bytes]]) -> None:
        for key_id, wrapped in pairs:
            with contextlib.suppress(Exception):
                self.decryption_key(key_id, wrapped)

    async def arefresh(self) -> None:
        """:meth:`awarm` when :meth:`write_key_due`, its failure left for the write itself."""
        if self.write_key_due():
            with contextlib.suppress(Exception):
                await self.awarm()

    def clear(self) -> None:
        """Forget every cached key (the next write generates a new data key)."""
        with self._lock:
            self._current = None
            self._unwrapped.clear()

    async def awarm(self) -> None:
        """Fetch the data key for writes in the event loop's executor (no blocking later)."""
        import asyncio

        await asyncio.get_running_loop().run_in_executor(None, self.encryption_key)

    def __repr__(self) -> str:
        return f"KmsKeys({self.key_id!r})"
