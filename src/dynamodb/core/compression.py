"""Compressed attribute values: a one-byte header naming the algorithm, then the data.

``compress(algorithm, data)`` and ``decompress(blob)``: gzip and lzma come from the
standard library, zstd from the ``zstandard`` package (imported when first used).
The header bytes are ``0xD1`` gzip, ``0xD2`` lzma, ``0xD3`` zstd and ``0xD0`` for
data stored as it is (which a field whose inner form is binary needs, so that a
small binary value is never mistaken for a compressed one).
"""

from __future__ import annotations

from typing import Any

from dynamodb.core.errors import MissingDependency

__all__ = ["ALGORITHMS", "HEADERS", "STORED", "compress", "decompress", "is_compressed"]

STORED = 0xD0
"""The header of data kept uncompressed."""
ALGORITHMS = {"gzip": 0xD1, "lzma": 0xD2, "zstd": 0xD3}
"""Each algorithm's header byte."""
HEADERS = frozenset((STORED, *ALGORITHMS.values()))

_zstd: dict[str, Any] = {}


def _zstandard() -> Any:
    try:
        import zstandard
    except ImportError:
        raise MissingDependency(
            "CompressedField(algorithm='zstd') needs the zstandard package: "
            "pip install 'dynamodb-py[zstd]' (or use algorithm='gzip' or 'lzma')"
        ) from None
    return zstandard


def require(algorithm: str) -> None:
    """ValueError for an unknown algorithm; MissingDependency when zstd is not installed."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, not {algorithm!r}")
    if algorithm == "zstd":
        _zstandard()


def compress(algorithm: str | None, data: bytes) -> bytes:
    """``data`` compressed with ``algorithm`` behind its header (None: stored as it is)."""
    if algorithm is None:
        return bytes((STORED,)) + data
    import gzip  # here: `import dynamodb` stays light
    import lzma

    header = bytes((ALGORITHMS[algorithm],))
    if algorithm == "gzip":
        return header + gzip.compress(data, mtime=0)  # mtime=0: the same bytes every time
    if algorithm == "lzma":
        return header + lzma.compress(data)
    return header + bytes(_zstandard().ZstdCompressor(level=3).compress(data))


def is_compressed(blob: bytes) -> bool:
    """Whether ``blob`` starts with one of the headers."""
    return bool(blob) and blob[0] in HEADERS


def decompress(blob: bytes) -> bytes:
    """The data :func:`compress` wrote; ValueError when it is damaged."""
    import gzip
    import lzma

    header, body = blob[0], bytes(blob[1:])
    try:
        if header == STORED:
            return body
        if header == ALGORITHMS["gzip"]:
            return gzip.decompress(body)
        if header == ALGORITHMS["lzma"]:
            return lzma.decompress(body)
        if header == ALGORITHMS["zstd"]:
            return bytes(_zstandard().ZstdDecompressor().decompressobj().decompress(body))
    except (OSError, EOFError, lzma.LZMAError) as error:
        raise ValueError(f"damaged compressed value: {error}") from None
    except MissingDependency:
        raise
    except Exception as error:  # zstandard.ZstdError
        raise ValueError(f"damaged compressed value: {error}") from None
    raise ValueError(f"unknown compression header 0x{header:02x}")
