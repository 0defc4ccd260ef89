"""Encrypted and compressed fields against DynamoDB Local, checked with raw boto3."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import pytest

import dynamodb
from dynamodb import (
    CharField,
    CompressedField,
    Connection,
    DecryptionError,
    DictField,
    EncryptedField,
    IntegerField,
    InvalidArgument,
    Model,
    VersionField,
)
from dynamodb.encryption import KmsKeys, StaticKeys, areencrypt, reencrypt
from dynamodb.streams import parse_lambda_event
from dynamodb.testing import record
from dynamodb.testing.support import connect_for_test

K1, K2 = os.urandom(32), os.urandom(32)
KEYS = StaticKeys({"k1": K1})


class Patient(Model):
    __table_name__ = "test_encryption_patient"

    ward = CharField(hash_key=True)
    bed = IntegerField(range_key=True)
    name = CharField()
    diagnosis = EncryptedField(CharField(), keys=KEYS)
    notes = EncryptedField(CompressedField(DictField(), algorithm="gzip", min_bytes=64), keys=KEYS)
    version = VersionField()


class Document(Model):
    __table_name__ = "test_encryption_document"

    doc_id = CharField(hash_key=True)
    gzip_body = CompressedField(CharField(), algorithm="gzip", min_bytes=1024)
    lzma_body = CompressedField(CharField(), algorithm="lzma", min_bytes=1024)
    zstd_body = CompressedField(CharField(), algorithm="zstd", min_bytes=1024)


@pytest.fixture
def raw(dynamodb_endpoint: str) -> Any:
    """A raw boto3 client on the same DynamoDB Local."""
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def patients(tables: Callable[..., None]) -> Iterator[None]:
    tables(Patient)
    yield
    Patient.diagnosis.keys = KEYS
    Patient.notes.keys = KEYS


def stored(raw: Any, ward: str, bed: int) -> dict[str, Any]:
    key = {"ward": {"S": ward}, "bed": {"N": str(bed)}}
    item: dict[str, Any] = raw.get_item(TableName=Patient.__table_name__, Key=key)["Item"]
    return item


M = TypeVar("M", bound=Model)


def got(model: type[M], **key: Any) -> M:
    """``model.get(**key)``, which must find the item."""
    item = model.get(**key)
    assert item is not None
    return item


def key_id(blob: bytes) -> str:
    return blob[2 : 2 + blob[1]].decode()


def test_the_stored_attribute_is_binary_without_the_plaintext(patients: None, raw: Any) -> None:
    Patient(ward="w1", bed=1, name="Ada", diagnosis="influenza", notes={"t": "rest"}).save()
    item = stored(raw, "w1", 1)
    blob = item["diagnosis"]["B"]
    assert set(item["diagnosis"]) == {"B"}
    assert b"influenza" not in blob
    assert blob[0] == 1
    assert key_id(blob) == "k1"
    assert b"rest" not in item["notes"]["B"]
    assert item["name"] == {"S": "Ada"}  # other attributes as usual
    back = got(Patient, ward="w1", bed=1)
    assert back.diagnosis == "influenza"
    assert back.notes == {"t": "rest"}


def test_every_read_path_decrypts(patients: None) -> None:
    Patient.batch_write(
        [Patient(ward="w2", bed=n, diagnosis=f"d{n}", notes={"n": n}) for n in range(3)]
    )
    assert [p.diagnosis for p in Patient.query().where(Patient.ward == "w2")] == ["d0", "d1", "d2"]
    assert sorted(p.diagnosis for p in Patient.scan()) == ["d0", "d1", "d2"]
    got = Patient.batch_get({"ward": "w2", "bed": 1})
    assert [p.diagnosis for p in got] == ["d1"]
    (fetched,) = dynamodb.transact_get([(Patient, {"ward": "w2", "bed": 2})])
    assert fetched is not None
    assert fetched.diagnosis == "d2"


def test_transactions_and_updates_encrypt(patients: None, raw: Any) -> None:
    with dynamodb.transaction() as tx:
        tx.save(Patient(ward="w3", bed=1, diagnosis="flu"))
    item = got(Patient, ward="w3", bed=1)
    assert item.diagnosis == "flu"
    item.update(Patient.diagnosis.set("cold"))
    assert item.diagnosis == "cold"
    assert b"cold" not in stored(raw, "w3", 1)["diagnosis"]["B"]
    assert got(Patient, ward="w3", bed=1).diagnosis == "cold"
    item.set_field(Patient.diagnosis, "mumps")
    item.commit_changes()
    assert got(Patient, ward="w3", bed=1).diagnosis == "mumps"
    item.update(Patient.diagnosis.remove())
    assert "diagnosis" not in stored(raw, "w3", 1)
    assert got(Patient, ward="w3", bed=1).diagnosis is None


def test_a_ciphertext_copied_into_another_item_does_not_decrypt(patients: None, raw: Any) -> None:
    Patient(ward="w4", bed=1, diagnosis="secret one").save()
    Patient(ward="w4", bed=2, diagnosis="secret two").save()
    copied = stored(raw, "w4", 1)["diagnosis"]
    raw.update_item(
        TableName=Patient.__table_name__,
        Key={"ward": {"S": "w4"}, "bed": {"N": "2"}},
        UpdateExpression="SET diagnosis = :v",
        ExpressionAttributeValues={":v": copied},
    )
    with pytest.raises(DecryptionError) as caught:
        got(Patient, ward="w4", bed=2)
    assert caught.value.model == "Patient"
    assert caught.value.key == {"ward": "w4", "bed": 2}
    assert caught.value.field == "diagnosis"
    assert "Patient {'ward': 'w4', 'bed': 2}: cannot decrypt diagnosis" in str(caught.value)


def test_a_ciphertext_copied_into_another_attribute_does_not_decrypt(
    patients: None, raw: Any
) -> None:
    Patient(ward="w5", bed=1, diagnosis="x", notes={"a": 1}).save()
    item = stored(raw, "w5", 1)
    item["notes"] = item["diagnosis"]
    raw.put_item(TableName=Patient.__table_name__, Item=item)
    with pytest.raises(DecryptionError, match="cannot decrypt notes"):
        got(Patient, ward="w5", bed=1)


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_one_changed_byte_raises(patients: None, raw: Any, position: int) -> None:
    Patient(ward="w6", bed=1, diagnosis="hepatitis").save()
    item = stored(raw, "w6", 1)
    blob = bytearray(item["diagnosis"]["B"])
    blob[position] ^= 0x01
    item["diagnosis"] = {"B": bytes(blob)}
    raw.put_item(TableName=Patient.__table_name__, Item=item)
    with pytest.raises(DecryptionError):
        got(Patient, ward="w6", bed=1)
    with pytest.raises(DecryptionError):
        Patient.scan().all()


def test_a_missing_key_id_raises(patients: None) -> None:
    Patient(ward="w7", bed=1, diagnosis="x").save()
    Patient.diagnosis.keys = StaticKeys({"other": K2})
    with pytest.raises(DecryptionError, match="'k1' is not in this StaticKeys"):
        got(Patient, ward="w7", bed=1)


def test_rotation_reads_old_values_and_writes_the_new_key(patients: None, raw: Any) -> None:
    Patient(ward="w8", bed=1, diagnosis="old").save()
    Patient(ward="w8", bed=2, diagnosis="old too").save()
    rotated = StaticKeys({"k1": K1, "k2": K2}, current="k2")
    Patient.diagnosis.keys = Patient.notes.keys = rotated
    assert got(Patient, ward="w8", bed=1).diagnosis == "old"
    Patient(ward="w8", bed=3, diagnosis="new").save()
    assert key_id(stored(raw, "w8", 3)["diagnosis"]["B"]) == "k2"
    assert key_id(stored(raw, "w8", 1)["diagnosis"]["B"]) == "k1"
    # reencrypt(): one item, then the whole table
    first = got(Patient, ward="w8", bed=1)
    assert reencrypt(first) == 1
    assert reencrypt(first) == 0  # nothing left under k1
    assert key_id(stored(raw, "w8", 1)["diagnosis"]["B"]) == "k2"
    assert reencrypt(Patient) == 1  # bed 2 only
    assert {key_id(stored(raw, "w8", bed)["diagnosis"]["B"]) for bed in (1, 2, 3)} == {"k2"}
    Patient.diagnosis.keys = StaticKeys({"k2": K2})  # k1 retired
    assert [p.diagnosis for p in Patient.query().where(Patient.ward == "w8")] == [
        "old",
        "old too",
        "new",
    ]


def test_reencrypt_does_not_overwrite_a_concurrent_write(patients: None, raw: Any) -> None:
    Patient(ward="w9", bed=1, diagnosis="first").save()
    read = got(Patient, ward="w9", bed=1)
    Patient.diagnosis.keys = StaticKeys({"k1": K1, "k2": K2}, current="k2")
    other = got(Patient, ward="w9", bed=1)
    other.diagnosis = "changed meanwhile"
    other.save()
    assert reencrypt(read) == 0  # its condition failed: the other write stays
    assert got(Patient, ward="w9", bed=1).diagnosis == "changed meanwhile"


def test_a_dirty_save_sends_nothing_for_an_unchanged_encrypted_field(patients: None) -> None:
    Patient(ward="wa", bed=1, name="Bo", diagnosis="asthma", notes={"n": 1}).save()
    item = got(Patient, ward="wa", bed=1)
    with record() as calls:
        item.save()  # nothing changed: nothing sent
    assert calls.operations() == []
    item.name = "Bob"
    with record() as calls:
        item.save()
    (update,) = calls.of("UpdateItem")
    assert set(update.params["ExpressionAttributeNames"].values()) == {"name", "version", "ward"}
    item.save()
    assert got(Patient, ward="wa", bed=1).diagnosis == "asthma"
    item.diagnosis = "asthma, mild"
    with record() as calls:
        item.save()
    (update,) = calls.of("UpdateItem")
    assert "diagnosis" in update.params["ExpressionAttributeNames"].values()
    sent = [v for v in update.params["ExpressionAttributeValues"].values() if "B" in v]
    assert len(sent) == 1
    assert b"asthma" not in sent[0]["B"]
    assert got(Patient, ward="wa", bed=1).diagnosis == "asthma, mild"


def test_a_full_put_resends_the_stored_ciphertext(patients: None, raw: Any) -> None:
    Patient(ward="wb", bed=1, diagnosis="same").save()
    before = stored(raw, "wb", 1)["diagnosis"]
    item = got(Patient, ward="wb", bed=1)
    item.save(full=True)
    assert stored(raw, "wb", 1)["diagnosis"] == before  # not encrypted again


def test_conditions_may_only_test_existence(patients: None) -> None:
    item = Patient(ward="wc", bed=1, diagnosis="x")
    item.save()
    item.name = "n"
    item.condition(Patient.diagnosis.exists()).save()
    with pytest.raises(dynamodb.ConditionalCheckFailed):
        item.condition(Patient.notes.exists()).update(Patient.name.set("m"))
    with pytest.raises(InvalidArgument, match=r"Patient.diagnosis is encrypted"):
        Patient.query().where(Patient.ward == "wc", Patient.diagnosis == "x").all()
    assert [p.bed for p in Patient.scan().where(Patient.diagnosis.not_exists())] == []


def test_stream_images_decrypt(patients: None, raw: Any) -> None:
    Patient(ward="wd", bed=1, diagnosis="streamed").save()
    image = stored(raw, "wd", 1)

    def lambda_form(value: dict[str, Any]) -> dict[str, Any]:
        return {
            name: {"B": base64.b64encode(av["B"]).decode()} if "B" in av else av
            for name, av in value.items()
        }

    event = {
        "Records": [
            {
                "eventID": "1",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:1:table/t/stream/s",
                "dynamodb": {
                    "Keys": lambda_form({"ward": image["ward"], "bed": image["bed"]}),
                    "NewImage": lambda_form(image),
                    "SequenceNumber": "1",
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        ]
    }
    (change,) = parse_lambda_event(event, Patient)
    assert change.new is not None
    assert change.new.diagnosis == "streamed"


def test_a_table_prefix_does_not_change_what_is_bound(
    patients: None, dynamodb_endpoint: str, raw: Any
) -> None:
    prefixed = connect_for_test(dynamodb_endpoint, table_prefix="enc_test_")
    dynamodb.create_table(Patient, force=True, connection=prefixed)
    try:
        Patient(ward="we", bed=1, diagnosis="prefixed").save(connection=prefixed)
        assert got(Patient, ward="we", bed=1, connection=prefixed).diagnosis == "prefixed"
        (table,) = [
            name
            for name in raw.list_tables()["TableNames"]
            if name.startswith("enc_test_") and name.endswith(Patient.__table_name__)
        ]
        key = {"ward": {"S": "we"}, "bed": {"N": "1"}}
        item = raw.get_item(TableName=table, Key=key)["Item"]
        raw.put_item(TableName=Patient.__table_name__, Item=item)  # to the unprefixed table
        assert got(Patient, ward="we", bed=1).diagnosis == "prefixed"
    finally:
        dynamodb.delete_table(Patient, connection=prefixed)
        prefixed.close()


async def test_async_calls_encrypt_and_reencrypt(patients: None, aconnection: Connection) -> None:
    await Patient(ward="wf", bed=1, diagnosis="async").asave()
    item = await Patient.aget(ward="wf", bed=1)
    assert item is not None
    assert item.diagnosis == "async"
    assert [p.diagnosis async for p in Patient.query().where(Patient.ward == "wf")] == ["async"]
    Patient.diagnosis.keys = StaticKeys({"k1": K1, "k2": K2}, current="k2")
    assert await areencrypt(Patient) == 1
    assert await areencrypt(Patient) == 0


# -- compressed fields --------------------------------------------------------------


def compressible_text(size: int) -> str:
    line = "The quick brown fox jumps over the lazy dog; patient record line {:06d}.\n"
    text = "".join(line.format(n) for n in range(size // len(line) + 1))
    return text[:size]


def test_300_kb_of_text_fits_through_every_algorithm(tables: Callable[..., None], raw: Any) -> None:
    tables(Document)
    text = compressible_text(300 * 1024)
    Document(doc_id="big", gzip_body=text, lzma_body=text, zstd_body=text).save()
    item = raw.get_item(TableName=Document.__table_name__, Key={"doc_id": {"S": "big"}})["Item"]
    for name, header in (("gzip_body", 0xD1), ("lzma_body", 0xD2), ("zstd_body", 0xD3)):
        blob = item[name]["B"]
        assert blob[0] == header
        assert len(blob) < 100 * 1024
    back = got(Document, doc_id="big")
    assert back.gzip_body == back.lzma_body == back.zstd_body == text
    Document(doc_id="small", gzip_body="tiny").save()
    small = raw.get_item(TableName=Document.__table_name__, Key={"doc_id": {"S": "small"}})
    assert small["Item"]["gzip_body"] == {"S": "tiny"}  # below min_bytes: as CharField stores it
    assert got(Document, doc_id="small").gzip_body == "tiny"


def test_without_compression_300_kb_times_three_is_refused(tables: Callable[..., None]) -> None:
    class Plain(Model):
        __table_name__ = "test_encryption_plain"
        doc_id = CharField(hash_key=True)
        body = CharField()
        copy = CharField()

    text = compressible_text(300 * 1024)
    with pytest.raises(dynamodb.ItemTooLarge):
        Plain(doc_id="big", body=text, copy=text).save()


# -- KmsKeys: KMS on moto's threaded server, the table on DynamoDB Local ------------


@pytest.fixture(scope="module")
def kms_settings() -> Iterator[dict[str, Any]]:
    """KmsKeys' (and boto3's) settings for KMS on a moto server of this module."""
    from dynamodb.testing import MotoServer

    with MotoServer() as endpoint:
        yield {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }


def counted(keys: KmsKeys) -> dict[str, int]:
    """KMS calls as botocore sends them (independently of ``keys.calls``)."""
    sent: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        sent[model.name] = sent.get(model.name, 0) + 1

    keys._client().meta.events.register("before-call.kms", count)
    return sent


def test_kms_envelope_encryption_with_a_bounded_cache(
    tables: Callable[..., None], raw: Any, kms_settings: dict[str, Any]
) -> None:
    kms = boto3.client("kms", **kms_settings)
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/test-encryption", TargetKeyId=arn)

    writer = KmsKeys("alias/test-encryption", max_uses=10, **kms_settings)
    written = counted(writer)

    class Account(Model):
        __table_name__ = "test_encryption_account"
        account_id = CharField(hash_key=True)
        iban = EncryptedField(CharField(), keys=writer)

    tables(Account)
    Account.batch_write([Account(account_id=f"a{n:02d}", iban=f"DE{n:020d}") for n in range(25)])
    assert written == {"GenerateDataKey": 3}  # 10 + 10 + 5 values
    item = raw.get_item(TableName=Account.__table_name__, Key={"account_id": {"S": "a07"}})
    blob = item["Item"]["iban"]["B"]
    assert key_id(blob) == arn
    assert b"DE" not in blob
    assert got(Account, account_id="a07").iban == f"DE{7:020d}"
    assert written == {"GenerateDataKey": 3}  # its own data keys are cached for reading

    Account.iban.keys = reader = KmsKeys(arn, **kms_settings)  # another process: nothing cached
    read = counted(reader)
    values = sorted(account.iban or "" for account in Account.scan())
    assert values == [f"DE{n:020d}" for n in range(25)]
    assert read == {"Decrypt": 3}  # one per data key, not one per value
    Account.scan().all()
    assert read == {"Decrypt": 3}
    assert reencrypt(Account) == 0  # all under the current key


async def test_async_calls_make_kms_calls_off_the_event_loop(
    tables: Callable[..., None], aconnection: Connection, kms_settings: dict[str, Any]
) -> None:
    arn = boto3.client("kms", **kms_settings).create_key()["KeyMetadata"]["Arn"]
    on_loop: list[tuple[str, bool]] = []  # (operation, made on a thread running an event loop)

    def watched(keys: KmsKeys) -> KmsKeys:
        def note(model: Any, **_: Any) -> None:
            on_loop.append((model.name, asyncio._get_running_loop() is not None))

        keys._client().meta.events.register("before-call.kms", note)
        return keys

    writer = watched(KmsKeys(arn, max_uses=5, **kms_settings))

    class Card(Model):
        __table_name__ = "test_encryption_card"
        card_id = CharField(hash_key=True)
        number = EncryptedField(CharField(), keys=writer)

    tables(Card)
    await writer.awarm()  # the first data key, in the executor
    for n in range(12):
        await Card(card_id=f"c{n:02d}", number=f"4111{n:012d}").asave()
    assert [name for name, _ in on_loop] == ["GenerateDataKey"] * 3

    Card.number.keys = watched(KmsKeys(arn, **kms_settings))  # nothing cached
    assert len([card async for card in Card.scan()]) == 12
    card = await Card.aget(card_id="c07")
    assert card is not None
    assert card.number == f"4111{7:012d}"
    assert [c.number for c in await Card.abatch_get({"card_id": "c01"})] == [f"4111{1:012d}"]
    (got_back,) = await dynamodb.atransact_get([(Card, {"card_id": "c11"})])
    assert got_back is not None
    assert [name for name, _ in on_loop].count("Decrypt") == 3  # one per data key
    assert not [entry for entry in on_loop if entry[1]]  # none blocked the event loop


async def test_async_collections_and_association_loads_fetch_kms_keys_off_the_loop(
    tables: Callable[..., None], aconnection: Connection, kms_settings: dict[str, Any]
) -> None:
    from dynamodb import Collection, belongs_to

    arn = boto3.client("kms", **kms_settings).create_key()["KeyMetadata"]["Arn"]
    on_loop: list[tuple[str, bool]] = []

    def watched(keys: KmsKeys) -> KmsKeys:
        def note(model: Any, **_: Any) -> None:
            on_loop.append((model.name, asyncio._get_running_loop() is not None))

        keys._client().meta.events.register("before-call.kms", note)
        return keys

    writer = KmsKeys(arn, **kms_settings)

    class Patient(Model):
        __table_name__ = "test_encryption_clinic"
        pk = CharField(hash_key=True, template="PATIENT#{patient_id}")
        sk = CharField(range_key=True, template="PROFILE")
        patient_id = CharField()
        name = EncryptedField(CharField(), keys=writer)

    class Visit(Model):
        __table_name__ = "test_encryption_clinic"
        pk = CharField(hash_key=True, template="PATIENT#{patient_id}")
        sk = CharField(range_key=True, template="VISIT#{visit_id}")
        patient_id = CharField()
        visit_id = CharField()
        notes = EncryptedField(CharField(), keys=writer)

    class Invoice(Model):
        __table_name__ = "test_encryption_invoices"
        invoice_id = CharField(hash_key=True)
        patient = belongs_to(Patient)

    tables(Patient, Visit, Invoice)
    ann = Patient(patient_id="p1", name="Ann")
    ann.save()
    Visit(patient_id="p1", visit_id="v1", notes="all well").save()
    bill = Invoice(invoice_id="i1")
    bill.patient = ann
    bill.save()

    # A new process: nothing cached; every read below needs a Decrypt.
    Patient.name.keys = Visit.notes.keys = watched(KmsKeys(arn, **kms_settings))
    result = await Collection(Patient, Visit).query(patient_id="p1").aall()
    assert [p.name for p in result[Patient]] == ["Ann"]
    assert [v.notes for v in result[Visit]] == ["all well"]
    Patient.name.keys = watched(KmsKeys(arn, **kms_settings))
    invoice = await Invoice.aget(invoice_id="i1")
    assert invoice is not None
    owner = await invoice.aload("patient")
    assert owner.name == "Ann"
    assert [name for name, _ in on_loop] == ["Decrypt", "Decrypt"]
    assert not [entry for entry in on_loop if entry[1]]  # none blocked the event loop
