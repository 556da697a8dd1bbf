"""Collision warnings: "Jane is viewing" and "Jane is typing…" on the thread page and the
queue's rows, for the other employees. Redis only; no PostgreSQL on any request here.

- One Redis hash per (thread, agent), `viewing:<brand>:<thread>:<agent>` = {name, typing
  until}, expiring VIEWING_SECONDS after the agent's thread page last asked (it asks every
  2 s while open, and pings on keystrokes, at most every 2 s, to set "typing").
- A sorted set per thread indexes its viewers, scored by when each one's entry expires, so
  a reader finds them without scanning keys. A reader ignores (and the next writer prunes)
  entries past their score: the clock of the request decides, as Redis's expiry would.
- Its pages (inbox.views.viewers) learn who is asking from the session alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


@dataclass(frozen=True)
class Viewer:
    agent_id: int
    name: str
    typing: bool

    @property
    def label(self) -> str:
        return f"{self.name} is typing…" if self.typing else f"{self.name} is viewing"


def _keys(brand_id: int, thread_id: int, agent_id: int | str = "idx") -> str:
    return cache.make_and_validate_key(f"viewing:{brand_id}:{thread_id}:{agent_id}")


def _client():
    # The cache's own Redis connection pool; hashes and sorted sets are not cache values.
    return cache._cache.get_client(write=True)


def touch(brand_id: int, thread_id: int, agent_id: int, name: str, *, typing: bool = False):
    """The agent has the thread open (and, with typing=True, just typed in its reply box).
    One round trip."""
    now = timezone.now().timestamp()
    ttl = settings.VIEWING_SECONDS
    index, key = _keys(brand_id, thread_id), _keys(brand_id, thread_id, agent_id)
    fields = {"name": name}
    if typing:
        fields["typing"] = str(now + settings.TYPING_SECONDS)
    pipe = _client().pipeline(transaction=True)
    pipe.hset(key, mapping=fields)
    pipe.expire(key, ttl)
    pipe.zremrangebyscore(index, "-inf", now)
    pipe.zadd(index, {str(agent_id): now + ttl})
    pipe.expire(index, ttl)
    pipe.execute()


# One round trip for a whole queue page: each thread's live viewers from its index, then
# each viewer's entry (its key is the index's with the agent id in place of "idx").
_READ = """
local out = {}
for i, index in ipairs(KEYS) do
    local found = {}
    local prefix = string.sub(index, 1, -4)
    for _, agent in ipairs(redis.call('ZRANGEBYSCORE', index, ARGV[1], '+inf')) do
        if agent ~= ARGV[2] then
            local entry = redis.call('HMGET', prefix .. agent, 'name', 'typing')
            if entry[1] then
                table.insert(found, agent)
                table.insert(found, entry[1])
                table.insert(found, entry[2] or '0')
            end
        end
    end
    out[i] = found
end
return out
"""
_scripts: dict[int, object] = {}


def viewers(brand_id: int, thread_ids: Iterable[int], *, besides: int) -> dict[int, list[Viewer]]:
    """{thread id: who else has it open, typists first}. One round trip (a Lua script),
    however many threads."""
    thread_ids = list(thread_ids)
    if not thread_ids:
        return {}
    now = timezone.now().timestamp()
    client = _client()
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_READ)
    keys = [_keys(brand_id, thread_id) for thread_id in thread_ids]
    found: dict[int, list[Viewer]] = {}
    for thread_id, flat in zip(thread_ids, script(keys=keys, args=[now, besides]), strict=True):
        for n in range(0, len(flat), 3):
            agent, name, typing = flat[n : n + 3]
            viewer = Viewer(int(agent), name.decode(), float(typing) > now)
            found.setdefault(thread_id, []).append(viewer)
    for people in found.values():
        people.sort(key=lambda v: (not v.typing, v.name))
    return found
