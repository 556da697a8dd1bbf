"""What muted words cost the poller (inbox.ingest.screen.WordMatcher), per tweet, against the
first design (one regex alternation of every word).

    python -m bench.mute_words --words 500 --tweets 10000

Pure Python, no database: `--words` random muted words (4 to 10 letters) plus two
phrases, `--tweets` random texts of 40 words (one in 50 ends in a muted word); each
matcher is built and run over every text, `--rounds` times; the medians are printed
(and written to `--json`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import string

from bench import stats


def _alternation(words: list[str]) -> re.Pattern[str]:
    """The first design: one regex of every word, longest first."""
    words = sorted({w.lower() for w in words}, key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, words))})(?!\w)", re.IGNORECASE)


def _word(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(low, high)))


def run(words: int, tweets: int, rounds: int) -> dict[str, float | int]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twelp.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from inbox.ingest.screen import word_matcher

    rng = random.Random(1)
    muted = [_word(rng, 4, 10) for _ in range(words)] + ["free followers", "don't buy"]
    texts = [" ".join(_word(rng, 2, 9) for _ in range(40)) for _ in range(tweets)]
    for i in range(0, tweets, 50):  # one tweet in 50 says a muted word, in capitals
        texts[i] += f" {rng.choice(muted).upper()}!"
    out: dict[str, list[float]] = {"build_ms": [], "us_per_tweet": [], "regex_us_per_tweet": []}
    hits = regex_hits = 0
    for _ in range(rounds):
        with stats.Stopwatch() as watch:
            matcher = word_matcher(muted)
        out["build_ms"].append(watch.ms)
        with stats.Stopwatch() as watch:
            hits = sum(1 for text in texts if matcher.search(text))
        out["us_per_tweet"].append(watch.seconds / tweets * 1e6)
        pattern = _alternation(muted)
        with stats.Stopwatch() as watch:
            regex_hits = sum(1 for text in texts if pattern.search(text))
        out["regex_us_per_tweet"].append(watch.seconds / tweets * 1e6)
    medians = stats.medians(out, digits=1)
    return {"words": words, "tweets": tweets, "hits": hits, "regex_hits": regex_hits, **medians}


def main(argv: list[str] | None = None) -> dict[str, float | int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument("--tweets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)
    results = run(args.words, args.tweets, args.rounds)
    print(json.dumps(results))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"results": results}, out)
    return results


if __name__ == "__main__":
    main()
