"""Who may call the controller: the admin credential, registration tokens, per-instance credentials.

* **Admin credential**: an AWS-style access key id and secret, created on first start in
  ``<data-dir>/credentials`` (mode 0600, AWS shared-credentials format, profile ``minecs``) so the
  CLI, and later the aws CLI, can use it; or given by ``MINECS_ACCESS_KEY_ID`` /
  ``MINECS_SECRET_ACCESS_KEY``.
* **Registration tokens** (``minecs token create``): one-time (or N-time) and expiring, like an ECS
  Anywhere activation. Only a SHA-256 of the token is stored.
* **Instance credentials**: issued once at registration; only a salted SHA-256 is stored. The
  secrets are 32 random bytes, so a fast hash is enough (nobody can guess the pre-image), and
  comparisons are constant-time.
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from minecs.errors import AccessDeniedError, UnauthenticatedError, VersionConflictError
from minecs.store import Store, Stored

PROFILE = "minecs"
TOKEN_KIND = "token"
CREDENTIAL_KIND = "credential"


def _digest(secret: str, salt: str = "") -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


@dataclass(frozen=True)
class AdminCredential:
    access_key_id: str
    secret_access_key: str


def load_or_create_admin(data_dir: Path, environ: dict[str, str] | None = None) -> AdminCredential:
    """The admin pair from the environment, else from ``<data-dir>/credentials`` (created if missing)."""
    env = os.environ if environ is None else environ
    if env.get("MINECS_ACCESS_KEY_ID") and env.get("MINECS_SECRET_ACCESS_KEY"):
        return AdminCredential(env["MINECS_ACCESS_KEY_ID"], env["MINECS_SECRET_ACCESS_KEY"])
    path = data_dir / "credentials"
    parser = configparser.ConfigParser()
    if path.exists():
        parser.read(path)
        section = parser[PROFILE]
        return AdminCredential(section["aws_access_key_id"], section["aws_secret_access_key"])
    credential = AdminCredential("AKMC" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
    parser[PROFILE] = {
        "aws_access_key_id": credential.access_key_id,
        "aws_secret_access_key": credential.secret_access_key,
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        parser.write(handle)
    return credential


class RegistrationTokens:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(
        self, *, now: datetime, ttl: timedelta | None = timedelta(hours=1), uses: int = 1
    ) -> str:
        token = "mcr-" + secrets.token_urlsafe(24)
        expires = (now + ttl).timestamp() if ttl is not None else None
        await self.store.create(TOKEN_KIND, _digest(token), {"expiresAt": expires, "usesLeft": uses})
        return token

    async def check(self, token: str, *, now: datetime) -> None:
        """``AccessDeniedError`` unless ``token`` could be spent now (nothing is spent)."""
        _usable(await self.store.get(TOKEN_KIND, _digest(token)), now)

    async def consume(self, token: str, *, now: datetime) -> None:
        """Spend one use of ``token``; ``AccessDeniedError`` if it is unknown, used up or expired."""
        key = _digest(token)
        for _ in range(10):
            stored = _usable(await self.store.get(TOKEN_KIND, key), now)
            body = {**stored.body, "usesLeft": stored.body["usesLeft"] - 1}
            try:
                await self.store.update(TOKEN_KIND, key, body, expected_version=stored.version)
                return
            except VersionConflictError:
                continue  # another agent spent a use meanwhile: look again
        raise AccessDeniedError("The registration token is busy; try again.")


def _usable(stored: Stored | None, now: datetime) -> Stored:
    if stored is None or stored.body["usesLeft"] < 1:
        raise AccessDeniedError("The registration token is not valid or has been used.")
    expires = stored.body["expiresAt"]
    if expires is not None and now.timestamp() > expires:
        raise AccessDeniedError("The registration token has expired.")
    return stored


class InstanceCredentials:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def issue(self, instance_id: str) -> str:
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(8)
        body: dict[str, Any] = {
            "salt": salt,
            "digest": _digest(secret, salt),
            "issuedAt": datetime.now(UTC).timestamp(),
        }
        existing = await self.store.get(CREDENTIAL_KIND, instance_id)
        if existing is None:
            await self.store.create(CREDENTIAL_KIND, instance_id, body)
        else:
            await self.store.update(CREDENTIAL_KIND, instance_id, body, expected_version=existing.version)
        return secret

    async def verify(self, instance_id: str, secret: str) -> None:
        """``UnauthenticatedError`` unless ``secret`` is the credential issued to ``instance_id``."""
        stored = await self.store.get(CREDENTIAL_KIND, instance_id)
        if stored is None or not hmac.compare_digest(
            stored.body["digest"], _digest(secret, stored.body["salt"])
        ):
            raise UnauthenticatedError("The instance credential is not valid.")
