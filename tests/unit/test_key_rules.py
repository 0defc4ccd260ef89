"""Keys that DynamoDB would refuse are refused before any request, naming the field."""

from __future__ import annotations

import pytest

from dynamodb import CharField, FieldValidationError, IntegerField, Model
from dynamodb.core.errors import AccessDenied, error_from_response


class KeyRules(Model):
    __table_name__ = "unit_key_rules"
    __secondary_indexes__ = {"by_owner": {"hash_key": "owner"}}  # noqa: RUF012

    name = CharField(hash_key=True)
    score = IntegerField(range_key=True)
    owner = CharField()
    note = CharField()


def test_an_empty_hash_key_string_is_refused() -> None:
    with pytest.raises(FieldValidationError) as caught:
        KeyRules(name="", score=1)
    assert caught.value.field == "name"
    assert "cannot be an empty string" in str(caught.value)


def test_an_empty_index_key_string_is_refused_but_other_fields_may_be_empty() -> None:
    with pytest.raises(FieldValidationError) as caught:
        KeyRules(name="a", score=1, owner="")
    assert caught.value.field == "owner"
    assert KeyRules(name="a", score=1, note="").note == ""


@pytest.mark.parametrize(
    "code",
    ["AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException"],
)
def test_credential_errors_are_access_denied(code: str) -> None:
    error = error_from_response(code, "The security token included in the request is invalid.")
    assert isinstance(error, AccessDenied)
    assert error.code == code
    assert "security token" in error.message


def test_a_reused_token_error_is_typed() -> None:
    from dynamodb import IdempotentParameterMismatch

    error = error_from_response("IdempotentParameterMismatchException", "token reused")
    assert isinstance(error, IdempotentParameterMismatch)


@pytest.mark.parametrize("token", ["", "x" * 37])
def test_a_client_request_token_longer_than_dynamodb_takes_is_refused(token: str) -> None:
    import dynamodb

    with pytest.raises(ValueError, match="1 to 36 characters"):
        dynamodb.transaction(client_request_token=token)
