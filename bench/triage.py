"""Triage badges against the labelled evaluation set (issue 17): before (VADER alone) and
after (inbox.rules.triage: care rules with VADER as one signal).

    python -m bench.triage                 # every file of inbox/rules/data/triage_eval_*.tsv
    python -m bench.triage --errors        # also list what the rules get wrong (tuned sets only)
    python -m bench.triage --loo           # tuned sets scored leave-one-out (the model never
                                           # sees the tweet it reads: an honest tuned figure)

Each line of a set: intent (complaint, question, praise, other), mood (negative, neutral,
positive), tags (help: a complaint that says "help"; sarcasm; emoji: emoji only; lang: not
English; holdout: written after the rules, never tuned on), text. Mood "frustrated"
counts as negative. Printed: accuracy per class of intent and of mood (recall: of the
tweets labelled X, how many were read as X) and precision (of the tweets read as X, how
many are X), overall accuracy, how many complaints come out with a positive mood, and the
same for each tag. `--table` prints one markdown row per set for BENCHMARKS.md. Pure
Python; the numbers are the same on every machine.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "inbox" / "rules" / "data"


def load(paths: list[Path]) -> list[dict[str, str]]:
    rows = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                row["file"] = path.name
                rows.append(row)
    return rows


def _mood3(band: str) -> str:
    return "negative" if band in ("negative", "frustrated") else band


def evaluate(rows: list[dict[str, str]], loo: bool = False) -> dict[str, object]:
    """Scores of `rows`; with `loo`, each tweet is read by a model trained without it."""
    from inbox.rules import sentiment, triage

    out: dict[str, object] = {"n": len(rows)}
    training = triage.training_rows() if loo else []
    for row in rows:
        row["before_mood"] = _mood3(sentiment.band(sentiment.score(row["text"])))
        bayes = None
        if loo:
            pair = (row["intent"], row["text"])
            others = list(training)
            if pair in others:
                others.remove(pair)
            bayes = triage.Bayes.trained(others)
        reading = triage.read(row["text"], bayes)
        row["after_intent"], row["after_mood"] = reading.intent, _mood3(reading.mood)
    out["intent"] = _per_class(rows, "intent", "after_intent", triage.INTENTS)
    moods = ("negative", "neutral", "positive")
    out["mood_before"] = _per_class(rows, "mood", "before_mood", moods)
    out["mood_after"] = _per_class(rows, "mood", "after_mood", moods)
    read_as = [r for r in rows if r["after_intent"] == "complaint"]
    right = sum(r["intent"] == "complaint" for r in read_as)
    out["complaint_precision"] = f"{right}/{len(read_as)}" + (
        f" = {right / len(read_as):.0%}" if read_as else ""
    )
    complaints = [r for r in rows if r["intent"] == "complaint"]
    out["complaints"] = len(complaints)
    out["complaints_positive_before"] = sum(r["before_mood"] == "positive" for r in complaints)
    out["complaints_positive_after"] = sum(r["after_mood"] == "positive" for r in complaints)
    out["by_tag"] = {}
    for tag in sorted({t for r in rows for t in r["tags"].split(",") if t}):
        tagged = [r for r in rows if tag in r["tags"].split(",")]
        out["by_tag"][tag] = {
            "n": len(tagged),
            "intent_right": sum(r["intent"] == r["after_intent"] for r in tagged),
            "mood_right_before": sum(r["mood"] == r["before_mood"] for r in tagged),
            "mood_right_after": sum(r["mood"] == r["after_mood"] for r in tagged),
        }
    return out


def _per_class(rows, truth: str, guess: str, classes) -> dict[str, object]:
    right, total, read_as = Counter(), Counter(), Counter()
    for r in rows:
        total[r[truth]] += 1
        read_as[r[guess]] += 1
        right[r[truth]] += r[truth] == r[guess]
    per = {c: f"{right[c]}/{total[c]} = {right[c] / total[c]:.0%}" for c in classes if total[c]}
    precision = {
        c: f"{right[c]}/{read_as[c]} = {right[c] / read_as[c]:.0%}" for c in classes if read_as[c]
    }
    all_right = sum(right.values())
    return {
        "per_class": per,
        "precision": precision,
        "overall": f"{all_right}/{len(rows)} = {all_right / len(rows):.0%}",
    }


def _pct(fraction: str | None) -> str:
    return fraction.split(" = ")[1] if fraction else "-"


def table_row(name: str, result: dict[str, object]) -> str:
    """One markdown row: intent recall / precision per class, accuracy, complaints badged
    positive (VADER alone / these rules)."""
    intent = result["intent"]
    cells = [f"{name} ({result['n']})"]
    from inbox.rules import triage

    for c in triage.INTENTS:
        recall = intent["per_class"].get(c)
        cells.append(f"{_pct(recall)} / {_pct(intent['precision'].get(c))}")
    cells.append(_pct(intent["overall"]))
    cells.append(_pct(result["mood_after"]["overall"]))
    cells.append(
        f"{result['complaints_positive_before']} / {result['complaints_positive_after']}"
        f" of {result['complaints']}"
    )
    return "| " + " | ".join(cells) + " |"


def report(name: str, result: dict[str, object]) -> None:
    print(f"\n## {name}: {result['n']} tweets")
    print(f"intent: {result['intent']}")
    print(f"complaint precision (of those read as complaints): {result['complaint_precision']}")
    print(f"mood before (VADER alone): {result['mood_before']}")
    print(f"mood after (care rules + VADER): {result['mood_after']}")
    print(
        f"complaints read as positive: before {result['complaints_positive_before']}"
        f"/{result['complaints']}, after {result['complaints_positive_after']}"
        f"/{result['complaints']}"
    )
    for tag, counts in result["by_tag"].items():
        print(f"  tag {tag}: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--errors", action="store_true", help="List the rules' mistakes.")
    parser.add_argument("--json", help="Also write the results to this file.")
    parser.add_argument("--loo", action="store_true", help="Tuned sets read leave-one-out.")
    parser.add_argument("--table", action="store_true", help="Markdown rows for BENCHMARKS.md.")
    args = parser.parse_args()
    paths = sorted(DATA.glob("triage_eval_*.tsv"))
    rows = load(paths)
    tuned = [r for r in rows if "holdout" not in r["tags"]]
    held = [r for r in rows if "holdout" in r["tags"]]
    results = {"all": evaluate(rows)}
    report("all (tuned sets in-sample)", results["all"])
    if held:
        results["tuned"] = evaluate(tuned, loo=args.loo)
        results["holdout"] = evaluate(held)
        loo = ", leave-one-out" if args.loo else ", in-sample"
        report(f"written before the rules (tuned on{loo})", results["tuned"])
        report("holdout (written after, never tuned on)", results["holdout"])
        for path in paths:  # each held-out set alone: they were written at different times
            alone = [r for r in held if r["file"] == path.name]
            if alone:
                results[path.stem] = evaluate(alone)
                report(f"{path.name} (held out)", results[path.stem])
    if args.table:
        print()
        for key, result in results.items():
            print(table_row(key, result))
    if args.errors:
        print()
        for r in tuned:  # never the held-out rows: reading their mistakes is tuning on them
            if r["intent"] != r["after_intent"] or r["mood"] != r["after_mood"]:
                print(
                    f"{r['intent']}/{r['mood']} -> {r['after_intent']}/{r['after_mood']}:"
                    f" {r['text']}"
                )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
