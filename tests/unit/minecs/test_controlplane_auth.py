"""Admin credential file, registration tokens and instance credentials."""

from __future__ import annotations

import configparser
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from minecs.controlplane.auth import InstanceCredentials, RegistrationTokens, load_or_create_admin
from minecs.errors import AccessDeniedError, UnauthenticatedError
from minecs.store.sqlite import SqliteStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(tmp_path / "db")
    yield opened
    await opened.close()


def test_admin_credential_file_is_created_once_0600_in_aws_format(tmp_path: Path) -> None:
    first = load_or_create_admin(tmp_path, environ={})
    path = tmp_path / "credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    parser = configparser.ConfigParser()
    parser.read(path)
    assert parser["minecs"]["aws_access_key_id"] == first.access_key_id
    assert load_or_create_admin(tmp_path, environ={}) == first
    from_env = load_or_create_admin(
        tmp_path, environ={"MINECS_ACCESS_KEY_ID": "AK", "MINECS_SECRET_ACCESS_KEY": "s"}
    )
    assert (from_env.access_key_id, from_env.secret_access_key) == ("AK", "s")


async def test_a_token_is_spent_by_use_and_refused_after(store: SqliteStore) -> None:
    tokens = RegistrationTokens(store)
    token = await tokens.create(now=NOW, uses=2)
    await tokens.consume(token, now=NOW)
    await tokens.consume(token, now=NOW)
    with pytest.raises(AccessDeniedError, match="not valid or has been used") as caught:
        await tokens.consume(token, now=NOW)
    assert (caught.value.status, caught.value.code) == (403, "AccessDeniedException")
    with pytest.raises(AccessDeniedError):
        await tokens.consume("mcr-made-up", now=NOW)
    assert all(token not in repr(s.body) and s.key != token for s in await store.find("token"))


async def test_an_expired_token_is_refused(store: SqliteStore) -> None:
    tokens = RegistrationTokens(store)
    token = await tokens.create(now=NOW, ttl=timedelta(minutes=5))
    with pytest.raises(AccessDeniedError, match="expired"):
        await tokens.consume(token, now=NOW + timedelta(minutes=6))


async def test_instance_credentials_verify_only_their_instance(store: SqliteStore) -> None:
    credentials = InstanceCredentials(store)
    one = await credentials.issue("i-1")
    two = await credentials.issue("i-2")
    await credentials.verify("i-1", one)
    for instance, secret in (("i-1", two), ("i-2", one), ("i-3", one)):
        with pytest.raises(UnauthenticatedError) as caught:
            await credentials.verify(instance, secret)
        assert caught.value.status == 401
    assert all(one not in repr(s.body) for s in await store.find("credential"))
