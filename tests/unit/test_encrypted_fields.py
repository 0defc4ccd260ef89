"""Encrypted and compressed fields without a server: formats, refusals, key providers."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from dynamodb import (
    BinaryField,
    CharField,
    CompressedField,
    DecryptionError,
    DictField,
    EncryptedField,
    EncryptionError,
    FieldValidationError,
    IntegerField,
    InvalidArgument,
    JSONField,
    ListField,
    MapModel,
    Model,
    ModelDefinitionError,
)
from dynamodb.core import compression
from dynamodb.core.envelope import (
    DataKey,
    EnvelopeInvalid,
    associated_data,
    key_id_of,
    open_envelope,
    seal_envelope,
)
from dynamodb.core.packing import pack_attribute, unpack_attribute
from dynamodb.encryption import KeyProvider, KmsKeys, StaticKeys
from dynamodb.models.sealing import seal_item

KEY = os.urandom(32)
KEYS = StaticKeys({"k1": KEY})


class Record(Model):
    __table_name__ = "unit_encrypted_record"

    rid = CharField(hash_key=True)
    secret = EncryptedField(CharField(min_length=2), keys=KEYS)
    data = EncryptedField(JSONField(), keys=KEYS)
    blob = CompressedField(BinaryField(), algorithm="gzip", min_bytes=100)
    text = CompressedField(CharField(), algorithm="lzma", min_bytes=100)


# -- packing, compression, envelope -------------------------------------------------


@pytest.mark.parametrize(
    "attribute",
    [
        {"S": "héllo"},
        {"S": ""},
        {"B": b"\x00\x01"},
        {"N": "1.5"},
        {"BOOL": True},
        {"NULL": True},
        {"SS": ["a", "b"]},
        {"NS": ["1", "2"]},
        {"BS": [b"x", b"\xff"]},
        {"L": [{"S": "a"}, {"B": b"z"}, {"M": {"k": {"N": "3"}}}]},
        {"M": {"a": {"L": []}, "b": {"BS": [b"1"]}}},
    ],
)
def test_packing_round_trips(attribute: dict[str, Any]) -> None:
    assert unpack_attribute(pack_attribute(attribute)) == attribute


def test_packing_refuses_what_it_did_not_write() -> None:
    for data in (b"", b"X123", b'J{"Q": 1}', b'J{"S": "a", "N": "1"}'):
        with pytest.raises(ValueError, match=r"unknown|not a packed"):
            unpack_attribute(data)


@pytest.mark.parametrize("algorithm", ["gzip", "lzma", "zstd", None])
def test_compression_round_trips_with_its_header(algorithm: str | None) -> None:
    data = b"abc" * 10_000
    blob = compression.compress(algorithm, data)
    expected = compression.STORED if algorithm is None else compression.ALGORITHMS[algorithm]
    assert blob[0] == expected
    assert compression.is_compressed(blob)
    assert compression.decompress(blob) == data
    assert compression.compress(algorithm, data) == blob  # deterministic: dirty tracking
    if algorithm is not None:
        assert len(blob) < len(data) // 20
        with pytest.raises(ValueError, match="damaged"):
            compression.decompress(blob[:1] + b"garbage" + blob[8:])


def test_an_unknown_header_is_refused() -> None:
    assert not compression.is_compressed(b"\x01abc")
    with pytest.raises(ValueError, match="unknown compression header 0x01"):
        compression.decompress(b"\x01abc")


def test_the_envelope_opens_only_with_its_context() -> None:
    context = associated_data("table", {"id": {"S": "a"}}, "secret")
    blob = seal_envelope(DataKey("k1", KEY), b"plain", context)
    assert blob[0] == 1
    assert key_id_of(blob) == "k1"
    assert b"plain" not in blob
    assert open_envelope(KEYS, blob, context) == b"plain"
    others = [
        associated_data("other_table", {"id": {"S": "a"}}, "secret"),
        associated_data("table", {"id": {"S": "b"}}, "secret"),
        associated_data("table", {"id": {"S": "a"}}, "other"),
        associated_data("table", {"id": {"B": b"a"}}, "secret"),
    ]
    for other in others:
        with pytest.raises(EnvelopeInvalid, match="authentication failed"):
            open_envelope(KEYS, blob, other)
    for position in range(len(blob)):
        changed = bytearray(blob)
        changed[position] ^= 0x80
        with pytest.raises((EnvelopeInvalid, LookupError)):
            open_envelope(KEYS, bytes(changed), context)
    with pytest.raises(EnvelopeInvalid, match="truncated"):
        open_envelope(KEYS, blob[:20], context)


def test_the_key_encoding_is_canonical() -> None:
    first = associated_data("t", {"a": {"S": "x"}, "b": {"N": "1.10"}}, "f")
    assert first == associated_data("t", {"b": {"N": "1.1"}, "a": {"S": "x"}}, "f")
    assert first != associated_data("t", {"a": {"S": "x"}, "b": {"N": "1.2"}}, "f")
    # length prefixes: moving a character between the parts changes the data
    assert associated_data("ab", {"k": {"S": "c"}}, "f") != associated_data(
        "a", {"k": {"S": "bc"}}, "f"
    )


def test_static_keys_check_their_keys() -> None:
    keys = StaticKeys({"a": KEY, "b": os.urandom(32)}, current="b")
    assert keys.encryption_key().key_id == "b"
    assert keys.is_current("b")
    assert not keys.is_current("a")
    assert "b" in repr(keys)
    assert repr(KEY) not in repr(keys)
    assert isinstance(keys, KeyProvider)
    with pytest.raises(InvalidArgument, match="32 bytes"):
        StaticKeys({"a": b"short"})
    with pytest.raises(InvalidArgument, match="needs current"):
        StaticKeys({"a": KEY, "b": KEY})
    with pytest.raises(InvalidArgument, match="not one of the keys"):
        StaticKeys({"a": KEY}, current="z")
    with pytest.raises(InvalidArgument, match="at least one key"):
        StaticKeys({})
    with pytest.raises(LookupError, match="'z' is not in this StaticKeys"):
        keys.decryption_key("z", b"")


# -- the fields on a model ----------------------------------------------------------


def test_values_are_sealed_and_opened_with_the_item() -> None:
    item = Record(rid="r1", secret="hidden", data={"a": [1, 2]}, blob=b"\x00" * 500, text="hi")
    value: str | None = item.secret  # the inner field's type
    assert value == "hidden"
    plain = item._to_wire_map()
    assert plain["secret"] == {"S": "hidden"}  # the inner form: what dirty tracking compares
    assert plain["text"] == {"S": "hi"}  # below min_bytes
    assert plain["blob"]["B"][0] == compression.ALGORITHMS["gzip"]
    stored = seal_item(item, plain)
    assert set(stored["secret"]) == {"B"}
    assert b"hidden" not in stored["secret"]["B"]
    back = Record._from_wire(stored)
    assert (back.secret, back.data, back.blob, back.text) == (
        "hidden",
        {"a": [1, 2]},
        b"\x00" * 500,
        "hi",
    )
    assert back._original is not None
    assert back._original["secret"] == {"S": "hidden"}
    assert seal_item(back, back._to_wire_map())["secret"] == stored["secret"]  # not again
    moved = dict(stored, rid={"S": "r2"})
    with pytest.raises(DecryptionError) as caught:
        Record._from_wire(moved)
    assert (caught.value.model, caught.value.key, caught.value.field) == (
        "Record",
        {"rid": "r2"},
        "secret",
    )


def test_a_small_binary_value_is_marked_stored() -> None:
    item = Record(rid="r", blob=b"\xd1not compressed")
    wire = item._to_wire_map()
    assert wire["blob"]["B"][0] == compression.STORED
    assert Record._from_wire(wire).blob == b"\xd1not compressed"
    assert Record._from_wire({"rid": {"S": "r"}, "text": {"S": "legacy"}}).text == "legacy"


def test_the_inner_field_validates_without_showing_the_value() -> None:
    with pytest.raises(FieldValidationError) as caught:
        Record(rid="r", secret="x")
    assert str(caught.value) == (
        "Record.secret: <encrypted value> is not valid: length 1 is below min_length 2"
    )
    with pytest.raises(FieldValidationError, match="expected a str, got int"):
        Record(rid="r").secret = 12  # type: ignore[assignment]


def test_a_failing_provider_is_an_encryption_error() -> None:
    class Broken:
        def encryption_key(self) -> DataKey:
            raise RuntimeError("KMS said no")

        def decryption_key(self, key_id: str, wrapped: bytes) -> bytes:
            raise RuntimeError("KMS said no")

        def is_current(self, key_id: str) -> bool:
            return True

    class Guarded(Model):
        __table_name__ = "unit_encrypted_guarded"
        gid = CharField(hash_key=True)
        secret = EncryptedField(CharField(), keys=Broken())

    item = Guarded(gid="g", secret="s")
    with pytest.raises(EncryptionError, match=r"Guarded.secret: cannot encrypt: KMS said no"):
        seal_item(item, item._to_wire_map())
    stored = seal_item(Record(rid="g", secret="ss"), {"rid": {"S": "g"}, "secret": {"S": "ss"}})
    with pytest.raises(DecryptionError, match="KMS said no"):
        Guarded._from_wire({"gid": {"S": "g"}, "secret": stored["secret"]})


@pytest.mark.parametrize(
    "declare",
    [
        lambda: {"k": EncryptedField(CharField(), keys=KEYS, hash_key=True)},
        lambda: {
            "k": CharField(hash_key=True),
            "r": EncryptedField(CharField(), keys=KEYS, range_key=True),
        },
        lambda: {"k": EncryptedField(CharField(hash_key=True), keys=KEYS)},
        lambda: {
            "k": CharField(hash_key=True),
            "r": IntegerField(range_key=True),
            "s": EncryptedField(CharField(), keys=KEYS, indexed=True),
        },
        lambda: {
            "k": CharField(hash_key=True),
            "s": EncryptedField(CharField(unique=True), keys=KEYS),
        },
        lambda: {
            "k": CharField(hash_key=True, template="A#{s}"),
            "s": EncryptedField(CharField(), keys=KEYS),
        },
        lambda: {
            "k": CharField(hash_key=True),
            "s": EncryptedField(CharField(), keys=KEYS),
            "__secondary_indexes__": {"by_s": {"hash_key": "s"}},
        },
        lambda: {"k": CompressedField(CharField(), algorithm="gzip", hash_key=True)},
    ],
)
def test_encrypted_keys_are_refused_at_definition(declare: Any) -> None:
    with pytest.raises(ModelDefinitionError, match=r"model Bad\b.*\b(k|r|s)\b"):
        type("Bad", (Model,), {"__table_name__": "unit_bad", **declare()})


def test_wrapping_is_refused_the_wrong_way_round() -> None:
    with pytest.raises(ModelDefinitionError, match="compress first, then encrypt"):
        CompressedField(EncryptedField(CharField(), keys=KEYS))
    with pytest.raises(ModelDefinitionError, match="algorithm must be one of"):
        CompressedField(CharField(), algorithm="brotli")
    with pytest.raises(ModelDefinitionError, match="takes a key provider"):
        EncryptedField(CharField(), keys={"k1": KEY})  # type: ignore[arg-type]
    with pytest.raises(ModelDefinitionError, match="wraps a field"):
        EncryptedField("text", keys=KEYS)  # type: ignore[arg-type]
    with pytest.raises(ModelDefinitionError, match="map model"):

        class Inner(MapModel):
            secret = EncryptedField(CharField(), keys=KEYS)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Record.secret.eq("x"),
        lambda: Record.secret == "x",
        lambda: Record.secret.ne("x"),
        lambda: Record.secret.gt("x"),
        lambda: Record.secret.between("a", "b"),
        lambda: Record.secret.begins_with("x"),
        lambda: Record.secret.contains("x"),
        lambda: Record.secret.is_in("x", "y"),
        lambda: Record.secret.size(),
        lambda: Record.secret.add(1),
        lambda: Record.secret.delete({"x"}),
        lambda: Record.secret.list_append(["x"]),
        lambda: Record.data["a"],
        lambda: Record.data.set(1, path="data.a"),
        lambda: Record.text.eq("x"),
    ],
)
def test_only_existence_can_be_asked_of_the_stored_form(build: Any) -> None:
    with pytest.raises(
        InvalidArgument, match=r"Record\.(secret|data|text) is (encrypted|compressed)"
    ):
        build()


def test_existence_set_and_remove_are_built() -> None:
    assert Record.secret.exists() is not None
    assert Record.secret.not_exists() is not None
    assert Record.secret.set("ab").value == {"S": "ab"}  # sealed with the item's key when sent
    assert Record.secret.remove().kind == "remove"
    assert Record.text.set("t" * 200).value["B"][0] == compression.ALGORITHMS["lzma"]  # type: ignore[index]


def test_typing_follows_the_inner_field() -> None:
    class Typed(Model):
        __table_name__ = "unit_encrypted_typed"
        tid = CharField(hash_key=True)
        numbers = EncryptedField(ListField(of=IntegerField()), keys=KEYS)
        doc = CompressedField(DictField(), algorithm="gzip")

    item = Typed(tid="t", numbers=[1, 2], doc={"a": Decimal(1)})
    numbers: list[int] | None = item.numbers
    doc: dict[str, Any] | None = item.doc
    assert numbers == [1, 2]
    assert doc == {"a": 1}
    assert "EncryptedField(ListField) Typed.numbers" in repr(Typed.numbers)


# -- KmsKeys on moto's in-process KMS -----------------------------------------------


@pytest.fixture
def kms_key() -> Any:
    moto = pytest.importorskip("moto")
    import boto3

    with moto.mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        yield client, client.create_key()["KeyMetadata"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_kms_data_keys_are_reused_within_their_bounds(kms_key: Any) -> None:
    _client, metadata = kms_key
    clock = Clock()
    keys = KmsKeys(metadata["KeyId"], region_name="us-east-1", max_uses=3, max_age=60, clock=clock)
    made = [keys.encryption_key() for _ in range(7)]
    assert keys.calls["GenerateDataKey"] == 3  # 3 + 3 + 1 uses
    assert made[0] is made[2]
    assert made[3] is not made[0]
    assert made[0].key_id == metadata["Arn"]
    assert made[0].wrapped
    assert len(made[0].key) == 32
    clock.now = 61
    assert keys.encryption_key() is not made[6]  # too old
    assert keys.calls["GenerateDataKey"] == 4
    # reading: our own data keys are known; a fresh provider asks KMS once per data key
    context = associated_data("t", {"id": {"S": "x"}}, "a")
    blobs = [seal_envelope(key, b"v", context) for key in made]
    reader = KmsKeys(metadata["KeyId"], region_name="us-east-1", clock=clock)
    for blob in blobs * 3:
        assert open_envelope(reader, blob, context) == b"v"
    # one DescribeKey learns the ARN of its key id, which the stored values must name
    assert reader.calls == {"GenerateDataKey": 0, "Decrypt": 3, "DescribeKey": 1}
    assert reader.is_current(metadata["Arn"])
    assert reader.calls["DescribeKey"] == 1
    assert not reader.is_current("arn:aws:kms:us-east-1:123456789012:key/other")


def test_the_kms_cache_is_thread_safe(kms_key: Any) -> None:
    _, metadata = kms_key
    keys = KmsKeys(metadata["KeyId"], region_name="us-east-1", max_uses=10)

    def work(_: int) -> list[DataKey]:
        return [keys.encryption_key() for _ in range(25)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = [key for keys_made in pool.map(work, range(4)) for key in keys_made]
    assert len(seen) == 100
    assert keys.calls["GenerateDataKey"] == 10
    assert max(seen.count(key) for key in set(seen)) == 10


def test_a_kms_refusal_is_a_decryption_error(kms_key: Any) -> None:
    _, metadata = kms_key
    writer = KmsKeys(metadata["KeyId"], region_name="us-east-1")

    class Vault(Model):
        __table_name__ = "unit_encrypted_vault"
        vid = CharField(hash_key=True)
        secret = EncryptedField(CharField(), keys=writer)

    item = Vault(vid="v", secret="kms")
    stored = seal_item(item, item._to_wire_map())
    assert Vault._from_wire(stored).secret == "kms"
    Vault.secret.keys = KmsKeys(metadata["KeyId"], region_name="us-east-1")  # an empty cache
    blob = bytearray(stored["secret"]["B"])
    blob[2 + blob[1] + 10] ^= 0x01  # a byte of the wrapped data key: KMS refuses it
    with pytest.raises(DecryptionError, match=r"Vault {'vid': 'v'}: cannot decrypt secret.*Access"):
        Vault._from_wire({"vid": {"S": "v"}, "secret": {"B": bytes(blob)}})
    Vault.secret.keys = KmsKeys("alias/missing", region_name="us-east-1")
    with pytest.raises(EncryptionError, match=r"Vault.secret: cannot encrypt"):
        seal_item(Vault(vid="w", secret="x"), {"vid": {"S": "w"}, "secret": {"S": "x"}})


def test_kms_keys_check_their_settings() -> None:
    with pytest.raises(InvalidArgument, match="KMS key id"):
        KmsKeys("")
    with pytest.raises(InvalidArgument, match="positive"):
        KmsKeys("alias/x", max_uses=0)
    assert repr(KmsKeys("alias/x")) == "KmsKeys('alias/x')"


def test_an_empty_set_inside_a_wrapper_is_left_out() -> None:
    from dynamodb import SetField

    class Tagged(Model):
        __table_name__ = "unit_encrypted_tagged"
        tid = CharField(hash_key=True)
        tags = EncryptedField(SetField(of=str), keys=KEYS)
        labels = CompressedField(SetField(of=str), algorithm="gzip", min_bytes=10)

    item = Tagged(tid="t", tags=set(), labels=set())
    assert item._to_wire_map() == {"tid": {"S": "t"}}
    back = Tagged._from_wire(seal_item(item, {"tid": {"S": "t"}}))
    assert back.tags == set()
    assert back.labels == set()
    full = Tagged(tid="t", tags={"a"}, labels={"x" * 20})
    again = Tagged._from_wire(seal_item(full, full._to_wire_map()))
    assert again.tags == {"a"}
    assert again.labels == {"x" * 20}


def test_reencrypt_needs_an_encrypted_model_and_a_read_item() -> None:
    from dynamodb.encryption import reencrypt

    class Unencrypted(Model):
        __table_name__ = "unit_encrypted_none"
        uid = CharField(hash_key=True)

    with pytest.raises(InvalidArgument, match="Unencrypted has no EncryptedField"):
        reencrypt(Unencrypted)
    with pytest.raises(InvalidArgument, match="was never read or written"):
        reencrypt(Record(rid="r", secret="ab"))


def test_a_renamed_attribute_binds_its_stored_name() -> None:
    class Renamed(Model):
        __table_name__ = "unit_encrypted_renamed"
        rid = CharField(hash_key=True)
        secret = EncryptedField(CharField(), name="s", keys=KEYS)

    item = Renamed(rid="r", secret="value")
    stored = seal_item(item, item._to_wire_map())
    assert set(stored) == {"rid", "s"}
    assert Renamed._from_wire(stored).secret == "value"
    assert Renamed.secret.set("x").path.attribute == "s"


def test_a_value_that_is_not_encrypted_is_refused() -> None:
    with pytest.raises(DecryptionError, match=r"stored as \['S'\], not as encrypted binary"):
        Record._from_wire({"rid": {"S": "r"}, "secret": {"S": "plain text"}})
