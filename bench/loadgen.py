"""A closed-loop HTTP load generator, run as its own process: N connections resend one request.

    python -m bench.loadgen URL REQUEST.json CONCURRENCY SECONDS

``REQUEST.json`` holds ``{"headers": {...}, "body": "..."}``: a request signed once beforehand, as a
client library would sign it. Prints ``{"requests": n, "errors": n, "seconds": s}`` (only 200 answers
count as requests). Keeping it out of the server's process keeps the server's CPU its own.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp


async def run(
    url: str, headers: dict[str, str], body: bytes, concurrency: int, seconds: float
) -> dict[str, float]:
    done = errors = 0
    deadline = time.monotonic() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done, errors
        while time.monotonic() < deadline:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    done += 1
                else:
                    errors += 1

    began = time.monotonic()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return {"requests": done, "errors": errors, "seconds": time.monotonic() - began}


def main() -> None:
    url, request_file, concurrency, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    with open(request_file) as handle:
        request = json.load(handle)
    result = asyncio.run(run(url, request["headers"], request["body"].encode(), concurrency, seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
