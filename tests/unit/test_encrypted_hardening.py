"""What encrypted and compressed fields refuse, and what never shows their plaintext."""

from __future__ import annotations

import os
from typing import Any

import pytest

from dynamodb import (
    CharField,
    CompressedField,
    DecryptionError,
    DictField,
    EncryptedField,
    FieldValidationError,
    IntegerField,
    ListField,
    MapModel,
    Model,
    ModelDefinitionError,
    TTLField,
    VersionField,
)
from dynamodb.core.envelope import associated_data, seal_envelope
from dynamodb.encryption import KmsKeys, StaticKeys
from dynamodb.models.sealing import seal_item

KEYS = StaticKeys({"k1": os.urandom(32)})
SECRET = "averyveryverylongsecret"


class Patient(Model):
    __table_name__ = "unit_hardening_patient"

    pid = CharField(hash_key=True)
    secret = EncryptedField(CharField(max_length=10), keys=KEYS)
    note = CharField()


class Plain(MapModel):
    city = CharField()


@pytest.mark.parametrize(
    "container",
    [
        lambda: ListField(of=EncryptedField(CharField(), keys=KEYS)),
        lambda: DictField(of=EncryptedField(CharField(), keys=KEYS)),
        lambda: ListField(of=ListField(of=EncryptedField(CharField(), keys=KEYS))),
        lambda: DictField(of=ListField(of=EncryptedField(CharField(), keys=KEYS))),
        lambda: EncryptedField(ListField(of=EncryptedField(CharField(), keys=KEYS)), keys=KEYS),
    ],
)
def test_encrypted_elements_are_refused_at_definition(container: Any) -> None:
    with pytest.raises(ModelDefinitionError) as caught:

        class Chart(Model):
            __table_name__ = "unit_hardening_chart"
            cid = CharField(hash_key=True)
            notes = container()

    message = str(caught.value)
    assert "model Chart: field notes holds encrypted elements" in message
    assert "encrypt the whole container instead, e.g. EncryptedField(ListField(...))" in message


def test_encrypted_fields_of_a_map_model_in_a_list_are_refused() -> None:
    with pytest.raises(ModelDefinitionError, match="map model"):

        class Inner(MapModel):
            card = EncryptedField(CharField(), keys=KEYS)

    with pytest.raises(ModelDefinitionError, match="model Deep: field cards holds encrypted"):

        class Deep(MapModel):
            cards = ListField(of=EncryptedField(CharField(), keys=KEYS))


def test_compressed_elements_are_refused_and_whole_containers_are_not() -> None:
    with pytest.raises(ModelDefinitionError, match="compress the whole container instead"):

        class Logs(Model):
            __table_name__ = "unit_hardening_logs"
            lid = CharField(hash_key=True)
            lines = ListField(of=CompressedField(CharField(), algorithm="gzip"))

    class Fine(Model):
        __table_name__ = "unit_hardening_fine"
        fid = CharField(hash_key=True)
        lines = CompressedField(ListField(of=CharField()), algorithm="gzip", min_bytes=1)
        cards = EncryptedField(ListField(of=Plain), keys=KEYS)
        plain = ListField(of=Plain)

    item = Fine(fid="f", lines=["a"], cards=[Plain(city="x")])
    assert Fine._from_wire(seal_item(item, item._to_wire_map())).cards == [Plain(city="x")]


@pytest.mark.parametrize(
    ("inner", "role"),
    [
        (lambda: EncryptedField(VersionField(), keys=KEYS), "optimistic locking"),
        (lambda: EncryptedField(TTLField(), keys=KEYS), "TTL"),
        (lambda: CompressedField(VersionField()), "optimistic locking"),
        (lambda: CompressedField(TTLField()), "TTL"),
        (lambda: EncryptedField(CompressedField(TTLField()), keys=KEYS), "TTL"),
    ],
)
def test_a_wrapped_version_or_ttl_field_is_refused(inner: Any, role: str) -> None:
    with pytest.raises(ModelDefinitionError, match=f"field stamp is .*{role}.*must read"):

        class Stamped(Model):
            __table_name__ = "unit_hardening_stamped"
            sid = CharField(hash_key=True)
            stamp = inner()


def test_a_doubly_wrapped_key_is_refused() -> None:
    with pytest.raises(ModelDefinitionError, match="cannot be unique"):

        class Keyed(Model):
            __table_name__ = "unit_hardening_keyed"
            kid = CharField(hash_key=True)
            code = EncryptedField(CompressedField(CharField(unique=True)), keys=KEYS)


# -- the plaintext never shows -------------------------------------------------------


def _assert_hidden(error: pytest.ExceptionInfo[FieldValidationError]) -> None:
    assert SECRET not in str(error.value)
    assert "Patient.secret: <encrypted value> is not valid" in str(error.value)


def test_set_does_not_show_the_value() -> None:
    with pytest.raises(FieldValidationError) as caught:
        Patient.secret.set(SECRET)
    _assert_hidden(caught)
    with pytest.raises(FieldValidationError) as caught:
        Patient.secret.set(SECRET, if_not_exists=True)
    _assert_hidden(caught)


def test_pending_updates_do_not_show_the_value() -> None:
    item = Patient(pid="p")
    with pytest.raises(FieldValidationError) as caught:
        item.set_field(Patient.secret, SECRET)
    _assert_hidden(caught)
    with pytest.raises(FieldValidationError) as caught:
        item.secret = SECRET
    _assert_hidden(caught)
    with pytest.raises(FieldValidationError) as caught:
        item.update(secret=SECRET)  # refused before any request
    _assert_hidden(caught)
    with pytest.raises(FieldValidationError) as caught:
        Patient.from_son({"pid": "p", "secret": SECRET})
    _assert_hidden(caught)


def test_a_refused_member_of_an_encrypted_container_is_not_shown() -> None:
    class Chart(Model):
        __table_name__ = "unit_hardening_chart"
        cid = CharField(hash_key=True)
        codes = EncryptedField(ListField(of=CharField(max_length=3)), keys=KEYS)
        counts = EncryptedField(DictField(of=IntegerField()), keys=KEYS)

    with pytest.raises(FieldValidationError) as caught:
        Chart(cid="c", codes=["ok", SECRET])
    assert str(caught.value) == (
        "Chart.codes: <encrypted value> is not valid: element <encrypted value>: "
        "length 23 is above max_length 3"
    )
    with pytest.raises(FieldValidationError) as caught:
        Chart.counts.set({"k": SECRET})
    assert SECRET not in str(caught.value)
    assert "value <encrypted value>: expected an int" in str(caught.value)


def test_repr_hides_encrypted_values() -> None:
    item = Patient(pid="p", secret="s3cr3t", note="visible")
    assert repr(item) == "Patient(pid='p', secret=<encrypted value>, note='visible')"
    assert item.secret == "s3cr3t"
    assert item.to_son() == {"pid": "p", "secret": "s3cr3t", "note": "visible"}


# -- what a stored value may name ------------------------------------------------------


def _stored(pid: str, secret: str) -> dict[str, Any]:
    item = Patient(pid=pid, secret=secret)
    return seal_item(item, item._to_wire_map())


@pytest.mark.parametrize("attribute", [{"NULL": True}, {"S": "x"}, {"N": "1"}, {"BOOL": False}])
def test_a_stored_value_that_is_not_binary_is_refused(attribute: dict[str, Any]) -> None:
    with pytest.raises(DecryptionError, match=r"Patient {'pid': 'p'}: cannot decrypt secret"):
        Patient._from_wire({"pid": {"S": "p"}, "secret": attribute})
    assert Patient._from_wire({"pid": {"S": "p"}}).secret is None  # absence reads as unset


def test_static_keys_refuse_an_unknown_key_id() -> None:
    other = StaticKeys({"k9": os.urandom(32)})
    context = associated_data(Patient._meta.table_name, {"pid": {"S": "p"}}, "secret")
    from dynamodb.core.packing import pack_attribute

    blob = seal_envelope(other.encryption_key(), pack_attribute({"S": "x"}), context)
    with pytest.raises(DecryptionError, match="key id 'k9' is not in this StaticKeys"):
        Patient._from_wire({"pid": {"S": "p"}, "secret": {"B": blob}})


@pytest.fixture
def two_kms_keys() -> Any:
    moto = pytest.importorskip("moto")
    import boto3

    with moto.mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        yield client.create_key()["KeyMetadata"], client.create_key()["KeyMetadata"]


def test_kms_keys_read_only_their_own_and_previous_keys(two_kms_keys: Any) -> None:
    mine, foreign = two_kms_keys
    forger = KmsKeys(foreign["KeyId"], region_name="us-east-1")
    context = associated_data("t", {"id": {"S": "x"}}, "a")
    forged = seal_envelope(forger.encryption_key(), b"forged", context)
    assert forger.encryption_key().key_id == foreign["Arn"]

    reader = KmsKeys(mine["KeyId"], region_name="us-east-1")
    from dynamodb.core.envelope import open_envelope

    with pytest.raises(LookupError, match="neither this provider's key"):
        open_envelope(reader, forged, context)
    assert reader.calls["Decrypt"] == 0  # refused before KMS is asked

    rotated = KmsKeys(mine["KeyId"], region_name="us-east-1", previous=(foreign["Arn"],))
    assert open_envelope(rotated, forged, context) == b"forged"
    assert not rotated.is_current(foreign["Arn"])
    assert rotated.previous == frozenset({foreign["Arn"]})

    class Vault(Model):
        __table_name__ = "unit_hardening_vault"
        vid = CharField(hash_key=True)
        secret = EncryptedField(IntegerField(), keys=forger)

    stored = seal_item(Vault(vid="v", secret=1), {"vid": {"S": "v"}, "secret": {"N": "1"}})
    Vault.secret.keys = reader
    with pytest.raises(DecryptionError, match=r"cannot decrypt secret.*neither"):
        Vault._from_wire(stored)


# -- pydantic sees the inner field ------------------------------------------------------


def test_the_pydantic_model_has_the_inner_fields_type_and_constraints() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Card(Model):
        __table_name__ = "unit_hardening_card"
        cid = CharField(hash_key=True)
        pin = EncryptedField(CharField(max_length=10), keys=KEYS)
        tries = CompressedField(IntegerField(minimum=0, default=3))

    model = Card.pydantic()
    with pytest.raises(pydantic.ValidationError, match="at most 10 characters"):
        model(cid="c", pin="x" * 11)
    assert model(cid="c", pin="1234").model_dump()["tries"] == 3
    properties = Card.json_schema()["properties"]
    assert {"type": "string", "maxLength": 10}.items() <= properties["pin"]["anyOf"][0].items()
    assert properties["tries"]["type"] == "integer"
    assert properties["tries"]["minimum"] == 0
