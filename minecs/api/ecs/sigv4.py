"""AWS Signature Version 4, verified (not produced): who signed an ECS JSON 1.1 request, and for where.

Pure: the caller hands in the method, path, query, headers, body and a way to look up a secret by
access key id; the answer is the ``Caller`` (access key, region from the credential scope) or an
``EcsError`` with AWS's code. The canonical request is rebuilt from the headers the client says it
signed (``SignedHeaders``), with ``host`` as sent (port included), exactly as botocore builds it.

Before any key is looked up, the request must be signed as AWS requires: ``host``,
``x-amz-date`` and ``x-amz-target`` among the ``SignedHeaders`` (otherwise a captured signature
could be replayed at another operation, e.g. a DescribeClusters turned into a DeleteCluster), and
a credential scope for the service ``ecs`` in a well-formed region name. minecs serves every region
on one endpoint, so any region that looks like an AWS one (``us-east-1``, ``us-gov-west-1``,
``eusc-de-east-1``) is accepted; ``nowhere`` or ``US_EAST_1`` is not.

Choices: a signature dated more than 15 minutes from the server's clock is refused, as AWS does
(``Signature expired``); hosts without a synchronised clock will see that error first. Every
refusal of a malformed or incomplete signature is ``InvalidSignatureException`` (403), with AWS's
words where we know them (the ``Host`` and scope messages) and the same pattern for the others.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from minecs.errors import InvalidSignatureError, MissingAuthenticationError, UnrecognizedClientError

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "ecs"
MAX_SKEW = timedelta(minutes=15)
MUST_SIGN = (
    ("host", "'Host' or ':authority'"),
    ("x-amz-date", "'X-Amz-Date'"),
    ("x-amz-target", "'X-Amz-Target'"),
)
REGION = re.compile(r"^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$")
_STAMP = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$")
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Caller:
    access_key_id: str
    region: str


def verify(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_for: Callable[[str], str | None],
    now: datetime,
) -> Caller:
    """The verified caller of a SigV4-signed request; ``headers`` must look names up case-insensitively."""
    authorization = headers.get("Authorization")
    if not authorization:
        raise MissingAuthenticationError("Missing Authentication Token")
    parsed = _AUTHORIZATION.match(authorization.strip())
    if parsed is None:
        raise InvalidSignatureError("The Authorization header is not a valid AWS Signature Version 4.")
    _check_scope(parsed)
    access_key, date, region, service, signed, signature = parsed.groups()
    secret = secret_for(access_key)
    if secret is None:
        raise UnrecognizedClientError("The security token included in the request is invalid.")
    stamp = headers.get("X-Amz-Date", "")
    try:
        signed_at = _signed_at(stamp)
    except ValueError as exc:
        raise InvalidSignatureError("The request has no valid X-Amz-Date header.") from exc
    if abs(now - signed_at) > MAX_SKEW:
        raise InvalidSignatureError(
            f"Signature expired: {stamp} is now earlier than {(now - MAX_SKEW):%Y%m%dT%H%M%SZ} "
            f"({now:%Y%m%dT%H%M%SZ} - 15 min.)"
        )
    scope = f"{date}/{region}/{service}/aws4_request"
    canonical = canonical_request(
        method, path=path, query=query, headers=headers, signed=signed.split(";"), body=body
    )
    to_sign = "\n".join((ALGORITHM, stamp, scope, hashlib.sha256(_bytes(canonical)).hexdigest()))
    key = signing_key(secret, date, region, service)
    expected = hmac.digest(key, _bytes(to_sign), "sha256").hex()
    if not hmac.compare_digest(expected, signature):
        raise InvalidSignatureError(
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details."
        )
    return Caller(access_key, region)


def _check_scope(parsed: re.Match[str]) -> None:
    signed = parsed["signed"].split(";")
    for header, shown in MUST_SIGN:
        if header not in signed:
            raise InvalidSignatureError(f"{shown} must be a 'SignedHeader' in the AWS Authorization.")
    if parsed["service"] != SERVICE:
        raise InvalidSignatureError(f"Credential should be scoped to correct service: '{SERVICE}'. ")
    if not REGION.match(parsed["region"]):
        raise InvalidSignatureError("Credential should be scoped to a valid region. ")


def _bytes(text: str) -> bytes:
    """What was signed, byte for byte: a header's raw non-UTF-8 bytes arrive from aiohttp as surrogates."""
    return text.encode("utf-8", "surrogateescape")


def canonical_request(
    method: str, *, path: str, query: str, headers: Mapping[str, str], signed: list[str], body: bytes
) -> str:
    lines = [f"{name}:{' '.join(headers.get(name, '').split())}" for name in signed]
    return "\n".join(
        (
            method.upper(),
            "/" if path in ("", "/") else quote(path, safe="/-_.~"),
            _canonical_query(query),
            "\n".join(lines) + "\n",
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        )
    )


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = [part.partition("=") for part in query.split("&") if part]
    return "&".join(f"{k}={v}" for k, _, v in sorted(pairs))


def _signed_at(stamp: str) -> datetime:
    """``X-Amz-Date`` (``20240102T030405Z``) as a time; ValueError if it is not one. (``strptime`` was
    a twentieth of a request's cost.)"""
    matched = _STAMP.match(stamp)
    if matched is None:
        raise ValueError(stamp)
    year, month, day, hour, minute, second = map(int, matched.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@functools.lru_cache(maxsize=64)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The key a day's signatures for one region and service use: four HMACs, so kept (per day)."""
    key = _bytes(f"AWS4{secret}")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, _bytes(part), hashlib.sha256).digest()
    return key
