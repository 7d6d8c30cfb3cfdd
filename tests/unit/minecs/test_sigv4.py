"""SigV4 verification against botocore's own signer (the oracle): accepted as signed, refused when the
date is malformed or too far from the server's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from multidict import CIMultiDict

from minecs.api.ecs.sigv4 import verify
from minecs.errors import InvalidSignatureError

KEY, SECRET = "AKIDSIGV4TEST", "sigv4-test-secret"


def signed() -> tuple[CIMultiDict[str], bytes]:
    body = b'{"clusters": ["default"]}'
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:7450/",
        data=body,
        headers={"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeClusters"},
    )
    SigV4Auth(Credentials(KEY, SECRET), "ecs", "eu-west-1").add_auth(request)
    # The HTTP client sends the Host that botocore signed (from the URL).
    return CIMultiDict({**dict(request.headers.items()), "Host": "127.0.0.1:7450"}), body


def check(headers: CIMultiDict[str], body: bytes, now: datetime) -> str:
    caller = verify(
        method="POST",
        path="/",
        query="",
        headers=headers,
        body=body,
        secret_for=lambda key: SECRET if key == KEY else None,
        now=now,
    )
    return caller.region


def test_a_request_signed_by_botocore_is_verified_with_its_region() -> None:
    headers, body = signed()
    assert check(headers, body, datetime.now(UTC)) == "eu-west-1"


@pytest.mark.parametrize("stamp", ["", "2024-01-02T03:04:05Z", "20241302T030405Z", "20240102T030405"])
def test_a_malformed_date_is_refused(stamp: str) -> None:
    headers, body = signed()
    headers["X-Amz-Date"] = stamp
    with pytest.raises(InvalidSignatureError, match="no valid X-Amz-Date"):
        check(headers, body, datetime.now(UTC))


def test_a_signature_from_16_minutes_ago_has_expired() -> None:
    headers, body = signed()
    with pytest.raises(InvalidSignatureError, match="Signature expired"):
        check(headers, body, datetime.now(UTC) + timedelta(minutes=16))
