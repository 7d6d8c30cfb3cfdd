"""Per-instance assignment versions, and waiting for them to move (the long-poll's engine).

Every change to what an instance should run bumps that instance's version; a long-poll parked with
``since=V`` returns as soon as the version is past ``V``. Versions come from the store's sequences, so
they only grow, also across controller restarts: the first use of an instance after a restart takes a
fresh number, which makes every agent re-fetch its set once (level-triggered, nothing is missed).
"""

from __future__ import annotations

import asyncio

from minecs.store import Store


class AssignmentVersions:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._current: dict[str, int] = {}
        self._changed = asyncio.Condition()

    async def bump(self, instance_id: str) -> int:
        version = await self.store.next_sequence(f"assignments/{instance_id}")
        async with self._changed:
            self._current[instance_id] = max(version, self._current.get(instance_id, 0))
            self._changed.notify_all()
        return version

    async def current(self, instance_id: str) -> int:
        if instance_id not in self._current:
            await self.bump(instance_id)
        return self._current[instance_id]

    async def wait_past(self, instance_id: str, since: int, within: float) -> int:
        """The version once it is past ``since``, or the current one after ``within`` seconds."""
        await self.current(instance_id)
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: self._current[instance_id] > since)
        except TimeoutError:
            pass
        return self._current[instance_id]
