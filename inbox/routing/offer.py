"""The order in which "claim next" offers open threads: nobody starves.

Three tiers, tried in this order, each one index range read in order with SKIP LOCKED
(inbox.actions._CLAIM_NEXT):

1. A thread offered to this agent (a customer they answered wrote again): index
   thread_offers.
2. A thread past its first-response target (SLA breached: `waiting_since` before the
   brand's breach cutoff, in business hours, inbox.rules.sla), oldest first: index
   thread_open_waiting (brand, waiting_since, id) WHERE status = 'open'. A breach outranks
   any priority.
3. Everything else by its offer key, smallest first: index thread_offer_order
   (brand, offer_at, id) WHERE status = 'open', where

       offer_at = waiting_since - priority × PRIORITY_SECONDS

   One point of priority (0-135, inbox.rules.priority) counts as PRIORITY_SECONDS of
   waiting: a thread of priority p is served as if it had arrived p × 20 s earlier. So
   the effective rank of a waiting thread rises with its wait (its key is fixed while
   every newer thread's is later), and priority still decides between threads of about
   the same age. `offer_at` is kept by a trigger (migration 0016_routing) on every
   INSERT and every UPDATE of priority or waiting_since, whoever writes the row (the
   poller's bulk_create, an action, a COPY).

In every tier the agent's teams (inbox.routing.teams) and, for a thread in a language,
the agent's languages (after the brand's language_wait, anyone's) filter the range. An
agent in teams reads tiers 2 and 3 team by team (thread_team_open_waiting,
thread_team_offer_order: the same keys after (brand, COALESCE(team, 0))) and takes the
smallest of their teams' heads: the same order, without walking past other teams' rows.

The bound (no starvation): a thread of priority 0 that starts waiting at t has offer_at
= t. A thread that arrives after t + MAX_PRIORITY × PRIORITY_SECONDS (135 × 20 s = 45
min) has a larger key and is never offered before it; once it breaches its SLA target it
moves to tier 2, where only threads waiting longer than it come first. So whatever the
inflow of urgent threads, it waits at most the time the agents need to serve the threads
that arrived before t + 45 min (and, once breached, those that arrived before t). Under
the old order (priority, then age) it waited until no thread of priority > 0 was left,
which a never-empty backlog never reaches. bench.starvation shows both.
"""

from __future__ import annotations

from datetime import datetime, timedelta

PRIORITY_SECONDS = 20  # the trigger's constant (migration 0016_routing): keep them equal
MAX_PRIORITY = 135  # inbox.rules.priority: reach 40 + verified 15 + frustrated 30 + urgent 50


def offer_at(waiting_since: datetime, priority: int) -> datetime:
    """What the trigger stores, in Python (for tests and the starvation simulation)."""
    return waiting_since - timedelta(seconds=priority * PRIORITY_SECONDS)


def head_start() -> timedelta:
    """The most a newer thread can overtake an older one by priority alone."""
    return timedelta(seconds=MAX_PRIORITY * PRIORITY_SECONDS)
