"""The direct transport's SigV4 signer gives exactly botocore's headers.

Each generated request (keys with and without a session token, odd characters in
the token and the body, bodies of every size, endpoints with ports and paths,
any second of any day) is signed by :class:`dynamodb.wire.sigv4.Signer` and by
botocore's own ``SigV4Auth`` at the same instant, and every header is compared.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamodb.wire.direct import encode_body
from dynamodb.wire.sigv4 import JSON_CONTENT_TYPE, TARGET_PREFIX, Credentials, Signer, host_header

KEY_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
# Session tokens are base64-ish; odd ones (spaces inside, unicode) must still match.
TOKEN_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n", max_codepoint=0x2FFF
)

credentials = st.builds(
    Credentials,
    access_key=st.text(KEY_CHARS, min_size=1, max_size=40),
    secret_key=st.text(KEY_CHARS, min_size=1, max_size=60),
    token=st.none() | st.text(TOKEN_CHARS, min_size=1, max_size=400).filter(str.strip),
)
regions = st.sampled_from(
    ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "local"]
)
operations = st.sampled_from(
    ["GetItem", "PutItem", "UpdateItem", "Query", "BatchWriteItem", "TransactWriteItems"]
)
endpoints = st.sampled_from(
    [
        "https://dynamodb.us-east-1.amazonaws.com",
        "https://dynamodb-fips.us-east-1.api.aws",
        "https://123456789012.ddb.eu-west-1.amazonaws.com",
        "http://127.0.0.1:8000",
        "http://localhost:4566",
        "http://LOCALHOST:80",
        "https://example.com:443",
        "https://example.com:8443",
        "http://[::1]:8000",
        "http://127.0.0.1:8000/",
        "http://127.0.0.1:8000/prefix/dynamo",
        "http://127.0.0.1:8000/a/./b/../c//d/",
        "http://127.0.0.1:8000/with space/~tilde",
    ]
)
# Any second from 1970 to 2099.
instants = st.integers(min_value=0, max_value=4_102_444_799)

attribute_values = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, st.text(max_size=50)),
        st.builds(lambda n: {"N": str(n)}, st.integers()),
        st.builds(lambda b: {"B": b}, st.binary(max_size=50)),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
    ),
    lambda children: (
        st.builds(lambda d: {"M": d}, st.dictionaries(st.text(max_size=10), children))
        | st.builds(lambda items: {"L": items}, st.lists(children, max_size=5))
    ),
    max_leaves=30,
)
params = st.fixed_dictionaries(
    {"TableName": st.text(min_size=1, max_size=30)},
    optional={"Item": st.dictionaries(st.text(max_size=20), attribute_values, max_size=10)},
)


def botocore_headers(
    creds: Credentials, region: str, url: str, target: str, body: bytes, instant: int
) -> dict[str, str]:
    """The headers botocore's SigV4Auth gives the same request at ``instant``."""
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": JSON_CONTENT_TYPE},
    )
    auth = SigV4Auth(
        BotocoreCredentials(creds.access_key, creds.secret_key, creds.token), "dynamodb", region
    )
    moment = dt.datetime.fromtimestamp(instant, dt.timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        auth.add_auth(request)
    signed = dict(request.headers.items())
    signed["Host"] = host_header(url)  # what botocore's HTTP layer sends, and signs
    return signed


@settings(max_examples=400, deadline=None)
@given(
    creds=credentials,
    region=regions,
    url=endpoints,
    operation=operations,
    body_params=params,
    instant=instants,
)
def test_every_header_is_botocores(
    creds: Credentials,
    region: str,
    url: str,
    operation: str,
    body_params: dict[str, Any],
    instant: int,
) -> None:
    body = encode_body(body_params)
    target = TARGET_PREFIX + operation
    ours = Signer(url, region).headers(creds, target, body, now=instant)
    assert ours == botocore_headers(creds, region, url, target, body, instant)


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024, 16 * 1024 * 1024 + 7])
def test_big_and_empty_bodies(size: int) -> None:
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok/en+==")
    url = "https://dynamodb.us-east-1.amazonaws.com"
    target = TARGET_PREFIX + "BatchWriteItem"
    ours = Signer(url, "us-east-1").headers(creds, target, body, now=1_700_000_000)
    assert ours == botocore_headers(creds, "us-east-1", url, target, body, 1_700_000_000)


def test_the_signing_key_is_derived_once_a_day_per_secret() -> None:
    """Requests of one day reuse the key; a new day or a new secret derives another,
    and each signature still matches botocore's."""
    signer = Signer("http://127.0.0.1:8000", "us-east-1")
    url, target = "http://127.0.0.1:8000", TARGET_PREFIX + "GetItem"
    body = json.dumps({"TableName": "t"}).encode()
    first = Credentials("AKID", "secret-one")
    rotated = Credentials("AKID", "secret-two")
    day = 1_700_000_000 - 1_700_000_000 % 86_400
    moments = [(first, day + 10), (first, day + 86_000), (first, day + 86_400), (rotated, day + 5)]
    keys = []
    for creds, instant in moments:
        assert signer.headers(creds, target, body, now=instant) == botocore_headers(
            creds, "us-east-1", url, target, body, instant
        )
        keys.append(signer.signing_key(creds.secret_key, signer_day(instant)))
    assert keys[0] == keys[1]  # same secret, same day: the same derived key
    assert len({keys[0], keys[2], keys[3]}) == 3


def signer_day(instant: int) -> str:
    return dt.datetime.fromtimestamp(instant, dt.timezone.utc).strftime("%Y%m%d")
