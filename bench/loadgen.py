"""A closed-loop HTTP load generator, run as its own process: N connections resend a mix of requests.

    python -m bench.loadgen URL REQUESTS.json CONCURRENCY SECONDS

``REQUESTS.json`` holds ``{"requests": [{"name": ..., "headers": {...}, "body": "...", "weight": n}]}``:
requests signed once beforehand, as a client library would sign them. Each connection cycles through
the mix (``weight`` copies of each request, every connection starting at another place in the
cycle), sending the next request as soon as the last one is answered. Prints ``{"requests": n,
"errors": n, "seconds": s, "latencies_ms": {name: [...]}, "error_samples": [...]}``: only 200 answers
count as requests and have their latency listed; any other answer, a refused or broken connection or
a request unanswered within 60 s is an error. Keeping it out of the server's process keeps the
server's CPU its own.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from typing import Any

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=60)


async def run(url: str, requests: list[dict[str, Any]], concurrency: int, seconds: float) -> dict[str, Any]:
    cycle = [r for r in requests for _ in range(int(r.get("weight", 1)))]
    latencies: dict[str, list[float]] = {r["name"]: [] for r in requests}
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    async def send(session: aiohttp.ClientSession, request: dict[str, Any]) -> None:
        began = time.perf_counter()
        try:
            async with session.post(url, data=request["body"], headers=request["headers"]) as response:
                payload = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            errors.append(f"{request['name']}: {type(exc).__name__} {exc}")
            return
        if response.status == 200:
            latencies[request["name"]].append((time.perf_counter() - began) * 1000)
        else:
            errors.append(f"{request['name']}: {response.status} {payload[:200]!r}")

    async def worker(session: aiohttp.ClientSession, start: int) -> None:
        for request in itertools.islice(itertools.cycle(cycle), start, None):
            if time.monotonic() >= deadline:
                return
            await send(session, request)

    began = time.monotonic()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session:
        await asyncio.gather(*(worker(session, n % len(cycle)) for n in range(concurrency)))
    return {
        "requests": sum(map(len, latencies.values())),
        "errors": len(errors),
        "seconds": time.monotonic() - began,
        "latencies_ms": latencies,
        "error_samples": errors[:5],
    }


def main() -> None:
    url, request_file, concurrency, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    with open(request_file) as handle:
        requests = json.load(handle)["requests"]
    print(json.dumps(asyncio.run(run(url, requests, concurrency, seconds))))


if __name__ == "__main__":
    main()
