"""Collision warnings: "Jane is viewing" and "Jane is typing…" on the thread page and the
queue's rows, for the other employees. Redis only; no PostgreSQL on any request here.

- One Redis hash per (thread, agent), `viewing:<brand>:<thread>:<agent>` = {name, typing
  until}, expiring VIEWING_SECONDS after the agent's thread page last asked (it asks every
  2 s while open, and pings on keystrokes, at most every 2 s, to set "typing").
- A sorted set per thread indexes its viewers, scored by when each one's entry expires, so
  a reader finds them without scanning keys. A reader ignores (and the next writer prunes)
  entries past their score: the clock of the request decides, as Redis's expiry would.
- A sorted set per brand indexes the same entries ("<thread>:<agent>"), so the push process
  (inbox.live.hub) reads every viewer of a brand in one round trip (`of_brand`) and pushes
  the labels, computed once per brand, to every open page of it; it also keeps the entry
  of each open thread page alive (`touch_many`) instead of that page's poll.
- Its pages (inbox.views.viewers) learn who is asking from the session alone; they are the
  fallback while a page's stream is down.
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


def _brand_index(brand_id: int) -> str:
    return cache.make_and_validate_key(f"viewing:{brand_id}:all")


def _client():
    # The cache's own Redis connection pool; hashes and sorted sets are not cache values.
    return cache._cache.get_client(write=True)


def touch(brand_id: int, thread_id: int, agent_id: int, name: str, *, typing: bool = False):
    """The agent has the thread open (and, with typing=True, just typed in its reply box).
    One round trip."""
    touch_many([(brand_id, thread_id, agent_id, name)], typing=typing)


def touch_many(entries: Iterable[tuple[int, int, int, str]], *, typing: bool = False) -> None:
    """`touch` for many (brand, thread, agent, name) at once: one round trip (the push
    process's open thread pages)."""
    now = timezone.now().timestamp()
    ttl = settings.VIEWING_SECONDS
    pipe = _client().pipeline(transaction=True)
    for brand_id, thread_id, agent_id, name in entries:
        index, key = _keys(brand_id, thread_id), _keys(brand_id, thread_id, agent_id)
        brand = _brand_index(brand_id)
        fields = {"name": name}
        if typing:
            fields["typing"] = str(now + settings.TYPING_SECONDS)
        pipe.hset(key, mapping=fields)
        pipe.expire(key, ttl)
        for found, member in ((index, str(agent_id)), (brand, f"{thread_id}:{agent_id}")):
            pipe.zremrangebyscore(found, "-inf", now)
            pipe.zadd(found, {member: now + ttl})
            pipe.expire(found, ttl)
    pipe.execute()


def leave(brand_id: int, thread_id: int, agent_id: int) -> None:
    """The agent's thread page closed (its stream ended): others stop seeing them at once
    rather than when the entry expires. One round trip."""
    pipe = _client().pipeline(transaction=True)
    pipe.delete(_keys(brand_id, thread_id, agent_id))
    pipe.zrem(_keys(brand_id, thread_id), str(agent_id))
    pipe.zrem(_brand_index(brand_id), f"{thread_id}:{agent_id}")
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
_scripts: dict[tuple[str, int], object] = {}


def _script(client, source: str):
    """The Lua `source` registered once per Redis client."""
    key = (source, id(client))
    if key not in _scripts:
        _scripts[key] = client.register_script(source)
    return _scripts[key]


def viewers(brand_id: int, thread_ids: Iterable[int], *, besides: int) -> dict[int, list[Viewer]]:
    """{thread id: who else has it open, typists first}. One round trip (a Lua script),
    however many threads."""
    thread_ids = list(thread_ids)
    if not thread_ids:
        return {}
    now = timezone.now().timestamp()
    script = _script(_client(), _READ)
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


# Every live entry of a brand: the brand index's members ("<thread>:<agent>") with their
# entry (its key is the index's with the member in place of "all").
_READ_BRAND = """
local out = {}
local prefix = string.sub(KEYS[1], 1, -4)
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')) do
    local entry = redis.call('HMGET', prefix .. member, 'name', 'typing')
    if entry[1] then
        table.insert(out, member)
        table.insert(out, entry[1])
        table.insert(out, entry[2] or '0')
    end
end
return out
"""


def of_brand(brand_id: int) -> dict[int, list[Viewer]]:
    """{thread id: everyone who has it open, typists first}, for the whole brand, the reader
    included (each page leaves itself out). One round trip (a Lua script)."""
    now = timezone.now().timestamp()
    flat = _script(_client(), _READ_BRAND)(keys=[_brand_index(brand_id)], args=[now])
    found: dict[int, list[Viewer]] = {}
    for n in range(0, len(flat), 3):
        thread, _, agent = flat[n].decode().partition(":")
        viewer = Viewer(int(agent), flat[n + 1].decode(), float(flat[n + 2]) > now)
        found.setdefault(int(thread), []).append(viewer)
    for people in found.values():
        people.sort(key=lambda v: (not v.typing, v.name))
    return found
