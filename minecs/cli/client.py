"""CLI commands that talk to a running controller through the native API, as the admin.

The endpoint is ``--endpoint``, else ``MINECS_ENDPOINT``, else ``http://127.0.0.1:7450``; the admin
credential is read from ``<data-dir>/credentials`` (or ``MINECS_ACCESS_KEY_ID`` /
``MINECS_SECRET_ACCESS_KEY``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlencode

import aiohttp

from minecs import settings
from minecs.adminclient import admin_headers, admin_request
from minecs.cli.hints import problem_line
from minecs.cli.reasons import deployment_tasks, reasons, rollout_line
from minecs.controlplane.services import is_steady
from minecs.errors import MinecsError

DEFAULT_ENDPOINT = "http://127.0.0.1:7450"


def endpoint_of(args: argparse.Namespace) -> str:
    """``--endpoint``, else ``MINECS_ENDPOINT``, else the local controller."""
    return getattr(args, "endpoint", None) or os.environ.get("MINECS_ENDPOINT") or DEFAULT_ENDPOINT


async def admin_stream(
    args: argparse.Namespace, config: settings.Settings, path: str
) -> AsyncIterator[bytes]:
    """A streamed GET (logs): the body's chunks as they arrive; a refusal is a MinecsError."""
    endpoint = endpoint_of(args)
    headers = admin_headers(args.data_dir or config.data_dir)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(endpoint.rstrip("/") + path, headers=headers) as response,
        ):
            if response.status >= 400:
                payload = await response.json(content_type=None)
                raise MinecsError(f"{payload.get('code')}: {payload.get('message')}")
            async for chunk in response.content.iter_any():
                yield chunk
    except (aiohttp.ClientError, ValueError) as exc:
        raise MinecsError(f"controller {endpoint} unreachable: {exc}") from exc


async def admin_call(
    args: argparse.Namespace, config: settings.Settings, method: str, path: str, body: Any
) -> Any:
    return await admin_request(endpoint_of(args), args.data_dir or config.data_dir, method, path, body)


async def create_token(args: argparse.Namespace, config: settings.Settings) -> int:
    answer = await admin_call(args, config, "POST", "/v1/tokens", {"ttlSeconds": args.ttl, "uses": args.uses})
    print(answer["token"])
    print(json.dumps({"expiresAt": answer["expiresAt"], "uses": answer["uses"]}), file=sys.stderr)
    return 0


def read_manifests(paths: list[str]) -> list[Any] | None:
    """The raw documents of ``paths`` (``-`` is stdin), validated here first; None, with every
    problem printed on stderr, when one is invalid."""
    from minecs.errors import FieldProblem, ValidationError
    from minecs.manifestfiles import read_sources
    from minecs.manifests import parse_text, raw_documents

    problems: list[FieldProblem] = []
    raw: list[Any] = []
    for name, text in read_sources(paths, sys.stdin, problems):
        try:
            parse_text(text, name)
            raw.extend(raw_documents(text, name))
        except ValidationError as exc:
            problems.extend(exc.problems)
    for problem in problems:
        print(f"ERROR {problem_line(problem)}", file=sys.stderr)
    return None if problems else raw


async def apply_files(args: argparse.Namespace, config: settings.Settings) -> int:
    """``minecs apply -f PATH... [--wait] [--dry-run=server|client]``: validate locally, apply on the
    controller, report each object. A server dry run says what apply would do and writes nothing;
    a client dry run only validates, as kubectl's."""
    raw = read_manifests(args.filename)
    if raw is None:
        return 1
    if args.dry_run == "client":
        print(f"{len(raw)} documents valid (client dry run: the controller was not asked)")
        return 0
    dry = args.dry_run == "server"
    answer = await admin_call(args, config, "POST", "/v1/apply", {"documents": raw, "dryRun": dry})
    for result in answer["results"]:
        print(
            f"{result['kind'].lower()}/{result['name']} {result['outcome']}{' (server dry run)' if dry else ''}"
        )
    services = [r["name"] for r in answer["results"] if r["kind"] == "Service"]
    if args.wait and services and not dry:
        return await wait_steady(args, config, services)
    return 0


async def wait_steady(
    args: argparse.Namespace,
    config: settings.Settings,
    names: list[str],
    *,
    done: str = "all services steady",
) -> int:
    """Wait until the applied deployments are steady; fail with the reason when one of them fails.

    The deployment to follow is each service's PRIMARY right after the apply. A circuit breaker with
    rollback makes the last COMPLETED deployment PRIMARY again, and the failed one may be listed for
    a pass only; that is still a failed apply, so the failure is read from the service's events as
    well as from the deployment itself.
    """
    import time

    cluster = getattr(args, "cluster", None)  # rollout status has --cluster; apply, not yet
    query = f"?{urlencode({'cluster': cluster})}" if cluster else ""
    deadline = time.monotonic() + args.timeout
    applied: dict[str, str] = {}
    last, tasks = "", []
    while time.monotonic() < deadline:
        services = (await admin_call(args, config, "GET", f"/v1/services{query}", None))["services"]
        tasks = (await admin_call(args, config, "GET", f"/v1/tasks{query}", None))["tasks"]
        wanted = [s for s in services if s["serviceName"] in names]
        for service in wanted:
            applied.setdefault(service["serviceName"], service["deployments"][0]["id"])
        line = "  ".join(
            f"{s['serviceName']} {rollout_line(s, applied[s['serviceName']], tasks)}" for s in wanted
        )
        if line != last:
            print(f"waiting: {line}", file=sys.stderr)
            last = line
        for service in wanted:
            reason = _failure(service, applied[service["serviceName"]])
            if reason:
                print(
                    f"minecs: service {service['serviceName']}: deployment failed: {reason}", file=sys.stderr
                )
                _explain(deployment_tasks(applied[service["serviceName"]], tasks))
                return 1
        if wanted and all(
            is_steady(s) and s["deployments"][0]["id"] == applied[s["serviceName"]] for s in wanted
        ):
            print(done)
            return 0
        await asyncio.sleep(1)
    print("minecs: timed out waiting for services to be steady", file=sys.stderr)
    _explain(t for deployment in applied.values() for t in deployment_tasks(deployment, tasks))
    return 1


def _explain(tasks: Iterable[Any]) -> None:
    for line in reasons(tasks):
        print(f"  {line}", file=sys.stderr)


def _failure(service: Any, deployment: str) -> str | None:
    for d in service["deployments"]:
        if d["id"] == deployment and d.get("rolloutState") == "FAILED":
            return str(d.get("rolloutStateReason"))
    failed = f"(deployment {deployment}) deployment failed: "
    for event in service["events"]:
        if failed in event["message"]:
            return "ECS deployment circuit breaker: " + str(event["message"]).split(failed, 1)[1]
    return None
