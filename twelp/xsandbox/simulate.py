"""Simulated customers tweeting at the brand: a realistic mix, the same for the same seed.

    from twelp.xsandbox.simulate import simulate
    run = simulate(500, seed=7)          # 500 tweets, written to the sandbox's tables
    run.kinds["retweet"]                 # how many of each kind were made

The mix: questions, complaints, praise, other languages (with `lang` set), links,
emoji, follow-ups that grow threads (a customer replying to their own tweet or to the
brand's answer), plain retweets ("RT @...", which an inbox must skip) and quotes.
With the same seed and the same starting world, a run makes the same tweets in the same
order; only ids and times differ, as they must.
"""

from __future__ import annotations

import functools
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower

from twelp.xsandbox import actions, snowflake
from twelp.xsandbox.models import Account, Tweet
from twelp.xsandbox.seed import brand_account

BATCH_SIZE = 1000

# kind -> weight in the mix
MIX = {
    "question": 26,
    "complaint": 22,
    "praise": 9,
    "foreign": 10,
    "link": 6,
    "emoji": 4,
    "follow_up": 15,
    "retweet": 5,
    "quote": 3,
}

PRODUCTS = [
    "laptop",
    "phone",
    "TV",
    "headphones",
    "smartwatch",
    "router",
    "dishwasher",
    "tablet",
    "camera",
    "printer",
    "gift card",
    "soundbar",
]
THINGS = ["my Mac", "an iPhone 15", "Windows 11", "my car's Bluetooth", "a PS5", "Alexa"]
CITIES = ["Austin", "Denver", "Boston", "Seattle", "Tampa", "Columbus", "San Jose"]
DAYS = ["Monday", "Tuesday", "yesterday", "last Friday", "the 3rd"]

TEMPLATES: dict[str, list[str]] = {
    "question": [
        "@{brand} does the {product} work with {thing}?",
        "@{brand} how do I reset my {product}? The manual says hold the button, nothing happens",
        "@{brand} can I change the delivery address on order #{order}?",
        "@{brand} when will the {product} be back in stock?",
        "Hey @{brand}, what's your return window for an opened {product}?",
        "@{brand} can I pick up in store if I ordered online? #help",
        "@{brand} my warranty runs out next month, can I extend it?",
        "Quick one @{brand}: do you price match?",
    ],
    "complaint": [
        "@{brand} order #{order} was due {day} and tracking hasn't moved in 4 days. Not happy.",
        "@{brand} third call about my {product} repair and still no update. Ridiculous 😡",
        "@{brand} I was charged twice for order #{order}?? Please fix this",
        "Really disappointed with @{brand}, my {product} arrived with a cracked screen",
        "@{brand} your app logs me out every time I try to check out #fail",
        "@{brand} waited 45 min at the {city} store for a 'ready' pickup. Nobody could find it.",
        "@{brand} the {product} I bought {day} already stopped working. What now?",
    ],
    "praise": [
        "Shoutout to @{brand}: the {city} store sorted my {product} in 10 minutes 🙌",
        "@{brand} thanks for the quick replacement! Super smooth",
        "Honestly @{brand} support is 🔥 today. Thank you!",
        "@{brand} love the new {product}, best purchase this year ❤️",
    ],
    "link": [
        "@{brand} this is what arrived instead of my order: https://example.com/photos/{order}",
        "@{brand} the price on https://shop.example.com/p/{order} doesn't match the store",
        "@{brand} same problem as this thread https://forum.example.org/t/{order}?page=2",
    ],
    "emoji": ["@{brand} 👀", "@{brand} ??", "@{brand} 😤😤😤", "@{brand} 🙏🏽 please"],
    "follow_up": [
        "any update?",
        "also, the order number is #{order}",
        "still waiting…",
        "ok that worked, thanks!",
        "I sent you a DM with the details",
        "that didn't help, the {product} still won't turn on",
        "2/ and before you ask, yes I already tried turning it off and on",
    ],
    "quote": [
        "This 👇 happened to me too @{brand}",
        "Same here. @{brand} are you going to fix this?",
    ],
}
FOREIGN: list[tuple[str, str]] = [
    ("es", "@{brand} hola, ¿cuándo llega mi pedido #{order}? Ya pasaron 10 días"),
    ("es", "@{brand} mi {product} no enciende después de la actualización 😢"),
    (
        "fr",
        "@{brand} bonjour, est-ce que je peux retourner en magasin un article acheté en ligne ?",
    ),
    ("de", "@{brand} meine Bestellung #{order} ist immer noch nicht angekommen. Was ist los?"),
    ("pt", "@{brand} olá! Vocês entregam no sábado?"),
    ("ja", "@{brand} 注文したカメラがまだ届きません。確認してもらえますか？"),
]
FIRST = [
    "maya",
    "liam",
    "noah",
    "emma",
    "ava",
    "lucas",
    "zoe",
    "omar",
    "priya",
    "chen",
    "sofia",
    "mateo",
    "hana",
    "leo",
    "ines",
    "kofi",
    "nina",
    "ravi",
    "sam",
    "tara",
]
LAST = [
    "rivera",
    "nguyen",
    "smith",
    "okafor",
    "kim",
    "muller",
    "rossi",
    "silva",
    "patel",
    "garcia",
    "tanaka",
    "brown",
    "cohen",
    "diaz",
]


@dataclass
class Simulation:
    tweets: list[Tweet] = field(default_factory=list)
    customers: list[Account] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)


def simulate(
    count: int,
    *,
    seed: int,
    customers: int | None = None,
    pace: float = 0.0,
    brand: Account | None = None,
) -> Simulation:
    """Write `count` simulated tweets to the sandbox, at `brand` (default: the brand account
    xsandbox_seed makes; training mode passes its training account).

    pace=0 writes them at once, in batches; pace=N posts one every N seconds, a live
    trickle for a demo or a polling test.
    """
    brand = brand or brand_account()
    if brand is None:
        raise LookupError("No brand account in the sandbox: run `manage.py xsandbox_seed` first.")
    rng = random.Random(seed)  # noqa: S311 - a reproducible fake crowd, not a secret
    run = Simulation(customers=_customers(rng, customers or max(3, min(count // 3, 500))))
    known = {account.username.lower(): account.id for account in [brand, *run.customers]}
    answers = list(
        Tweet.objects.filter(author=brand, in_reply_to_user__isnull=False)
        .select_related("author", "in_reply_to_user")
        .order_by("-id")[:50]
    )
    batch = 1 if pace > 0 else BATCH_SIZE
    for start in range(0, count, batch):
        drafts = []
        for tweet_id in snowflake.allocate(min(batch, count - start)):
            draft, kind = _next_tweet(rng, brand, run, answers, tweet_id, known)
            run.tweets.append(draft.tweet)
            run.kinds[kind] += 1
            drafts.append(draft)
        with transaction.atomic():
            actions.save_drafts(drafts)
        if pace > 0 and start + batch < count:
            time.sleep(pace)
    return run


def _customers(rng: random.Random, wanted: int) -> list[Account]:
    """`wanted` customers with seeded names: the ones made by an earlier run are reused."""
    names: dict[str, str] = {}
    while len(names) < wanted:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        username = f"{first}_{last[:3]}{rng.randrange(10, 1000)}"[:15]
        names.setdefault(username, f"{first.title()} {last.title()}")
    lowered = Account.objects.annotate(lname=Lower("username")).filter(lname__in=list(names))
    existing = {account.lname: account for account in lowered}
    created = actions.create_customers(
        [(username, name) for username, name in names.items() if username not in existing]
    )
    by_name = existing | {account.username: account for account in created}
    return [by_name[username] for username in names]


def _next_tweet(
    rng: random.Random,
    brand: Account,
    run: Simulation,
    answers: list[Tweet],
    tweet_id: int,
    known: dict[str, int],
) -> tuple[actions.Draft, str]:
    kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    fill = _filler(rng, brand)
    make = functools.partial(actions.draft_tweet, tweet_id=tweet_id, known=known)
    earlier = [t for t in run.tweets[-40:] if t.retweeted_tweet_id is None]
    if kind == "follow_up" and (earlier or answers):
        parent = _thread_parent(rng, earlier, answers)
        # Whoever the conversation is with answers: the customer, never the brand.
        author = parent.in_reply_to_user if parent.author_id == brand.pk else parent.author
        body = rng.choice(TEMPLATES["follow_up"]).format(**fill)
        return make(author, body, parent=parent), kind
    if kind == "retweet" and earlier:
        original = rng.choice(earlier)
        body = f"RT @{original.author.username}: {original.text}"
        author = rng.choice(run.customers)
        return make(author, body, retweet_of=original, lang=original.lang), kind
    if kind == "quote" and earlier:
        body = rng.choice(TEMPLATES["quote"]).format(**fill)
        return make(rng.choice(run.customers), body, quote_of=rng.choice(earlier)), kind
    if kind in ("follow_up", "retweet", "quote"):
        kind = "question"  # nothing to build on yet: the first tweets of a run start threads
    lang, body = rng.choice(FOREIGN) if kind == "foreign" else ("en", rng.choice(TEMPLATES[kind]))
    return make(rng.choice(run.customers), body.format(**fill), lang=lang), kind


def _thread_parent(rng: random.Random, earlier: list[Tweet], answers: list[Tweet]) -> Tweet:
    """Mostly the latest tweets (so threads grow long); sometimes an answer from the brand."""
    if answers and (not earlier or rng.random() < 0.3):
        return rng.choice(answers)
    return rng.choice(earlier[-10:])


def _filler(rng: random.Random, brand: Account) -> dict[str, str]:
    return {
        "brand": brand.username,
        "product": rng.choice(PRODUCTS),
        "thing": rng.choice(THINGS),
        "city": rng.choice(CITIES),
        "day": rng.choice(DAYS),
        "order": str(rng.randrange(10_000_000, 99_999_999)),
    }
