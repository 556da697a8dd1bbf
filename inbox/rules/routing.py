"""Routing rules, pure: check a rule's value, and find the first rule a thread matches.

1. A brand's rules are tried in order of (position, id); the first that matches decides
   the thread's team; none matches, the brand's default team.
2. Kinds: `source` (the thread came from that Source), `keyword` (a case-insensitive
   regular expression searched in the customer's text), `hashtag` (#word, any case, whole
   tag), `language` (X's `lang` of the customer's message), `tag` (the customer carries
   that tag), `vip` (the customer is verified, or has at least N followers; N the value).
3. A rule's value is checked when it is saved (`clean_value`): an invalid regex, an
   unknown language, a tag no tag could be, a follower count that is no number is refused
   with the reason. Matching never raises.
4. X's own pseudo-languages (undetermined, no text, media only) are no language: a thread
   keeps "" (`known_lang`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext as _

# The languages X detects (its `lang` values, BCP 47), by name.
LANGUAGES = {
    "am": "Amharic",
    "ar": "Arabic",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "bo": "Tibetan",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "dv": "Divehi",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "gu": "Gujarati",
    "he": "Hebrew",
    "hi": "Hindi",
    "ht": "Haitian Creole",
    "hu": "Hungarian",
    "hy": "Armenian",
    "id": "Indonesian",
    "in": "Indonesian",
    "is": "Icelandic",
    "it": "Italian",
    "iw": "Hebrew",
    "ja": "Japanese",
    "ka": "Georgian",
    "km": "Khmer",
    "kn": "Kannada",
    "ko": "Korean",
    "lo": "Lao",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "ml": "Malayalam",
    "mr": "Marathi",
    "ms": "Malay",
    "my": "Burmese",
    "ne": "Nepali",
    "nl": "Dutch",
    "no": "Norwegian",
    "or": "Oriya",
    "pa": "Panjabi",
    "pl": "Polish",
    "ps": "Pashto",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sd": "Sindhi",
    "si": "Sinhala",
    "sl": "Slovenian",
    "sr": "Serbian",
    "sv": "Swedish",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "ug": "Uyghur",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}
# X's codes for "no language": undetermined, no text, and the media/hashtag-only kinds.
NOT_A_LANGUAGE = {"und", "zxx", "qme", "qht", "qam", "qst", "qct", "art"}
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_HASHTAG = re.compile(r"^\w{1,100}$")
PATTERN_MAX = 200


class RuleError(ValueError):
    """A rule's value that cannot work, with the reason for the supervisor."""


def known_lang(lang: object) -> str:
    """X's `lang` as stored: lowercase, "" for none or a pseudo-language."""
    if not isinstance(lang, str):
        return ""
    code = lang.strip().lower()[:8]
    return "" if code in NOT_A_LANGUAGE else code


def language_name(code: str) -> str:
    # Django's own catalogs name the languages in the reader's language ("Spanish": "Español").
    return gettext(LANGUAGES[code]) if code in LANGUAGES else code


def clean_value(kind: str, raw: str, *, source_ids: Iterable[int] = ()) -> str:
    """The rule's value, normalised; RuleError saying why it cannot be used."""
    value = raw.strip()
    if not value:
        raise RuleError(_("A rule needs a value."))
    if kind == "source":
        if not value.isdigit() or int(value) not in set(source_ids):
            raise RuleError(_("Pick one of the brand's sources."))
        return value
    if kind == "keyword":
        if len(value) > PATTERN_MAX:
            raise RuleError(
                _("A pattern is at most %(PATTERN_MAX)s characters.") % {"PATTERN_MAX": PATTERN_MAX}
            )
        try:
            re.compile(value, re.IGNORECASE)
        except re.error as error:
            raise RuleError(
                _("“%(value)s” is not a valid regular expression: %(error)s.")
                % {"value": value, "error": error}
            ) from None
        return value
    if kind == "hashtag":
        tag = value.removeprefix("#")
        if not _HASHTAG.match(tag):
            raise RuleError(_("A hashtag is one word of letters, digits or _ (the # optional)."))
        return tag.lower()
    if kind == "language":
        code = value.lower()
        if code not in LANGUAGES:
            raise RuleError(
                _("“%(value)s” is not a language X reports; use a code such as en, es, pt or ja.")
                % {"value": value}
            )
        return code
    if kind == "tag":
        tag = value.lower()
        if not _TAG.match(tag):
            raise RuleError(_("A customer tag is lowercase letters, digits, - or _ (at most 32)."))
        return tag
    if kind == "vip":
        if not value.isdigit():
            raise RuleError(_("VIP: give the number of followers that makes a customer one."))
        return str(int(value))
    raise RuleError(_("Unknown kind of rule."))


@dataclass(frozen=True)
class Rule:
    id: int
    kind: str
    value: str
    team_id: int


@dataclass(frozen=True)
class Arrival:
    """What routing looks at: where the thread came from, what the customer said, who
    they are."""

    source_id: int | None
    text: str
    lang: str
    tags: Sequence[str] = ()
    verified: bool = False
    followers: int = 0


def matches(rule: Rule, arrival: Arrival) -> bool:
    kind, value = rule.kind, rule.value
    if kind == "source":
        return arrival.source_id is not None and str(arrival.source_id) == value
    if kind == "keyword":
        try:
            return re.search(value, arrival.text, re.IGNORECASE) is not None
        except re.error:  # saved before the check existed: never matches
            return False
    if kind == "hashtag":
        tag = rf"(?<!\w)#{re.escape(value)}(?!\w)"
        return re.search(tag, arrival.text, re.IGNORECASE) is not None
    if kind == "language":
        return arrival.lang == value
    if kind == "tag":
        return value in arrival.tags
    if kind == "vip":
        return arrival.verified or arrival.followers >= int(value)
    return False


def first_match(rules: Iterable[Rule], arrival: Arrival) -> Rule | None:
    """The first rule (in the order given: position, id) that `arrival` matches."""
    return next((rule for rule in rules if matches(rule, arrival)), None)
