"""The personal-data guard: a public reply must not carry a phone number, an e-mail
address, a card number or an account number (support guidelines: move to DM instead).

`find(text)` lists what looks like personal data; `do_send_reply` refuses a public reply
that has any, unless the agent confirmed exactly those findings (`digest`). The page asks
the same function while the agent types, so the browser and the server never disagree.

| kind    | how it is recognised |
| ------- | -------------------- |
| email   | local@domain.tld (an @handle alone is not one) |
| card    | 13-19 digits, spaces or dashes between, passing the Luhn check |
| account | digits after "account", "acct", "a/c", "IBAN", "routing", "sort code"; |
|         | an IBAN anywhere (ISO 13616 mod-97); a US SSN (123-45-6789) |
| phone   | Google's libphonenumber (`phonenumbers`), VALID leniency: a real number |
|         | (+44 ... anywhere; national numbers read as PHONE_REGION's) |

Not personal data, by design: dates and times, versions, ZIP codes, links (a URL's path is
skipped), and references the customer or the brand uses to find a purchase: a number
after "order", "ticket", "case", "ref", "tracking", "confirmation", "invoice", "booking"
or "flight" (an order number identifies an order, not a person).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import phonenumbers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inbox.errors import ActionError

PHONE_REGION = "US"  # how national numbers without +country are read

LABELS = {
    "email": gettext_lazy("an e-mail address"),
    "card": gettext_lazy("a card number"),
    "account": gettext_lazy("an account number"),
    "phone": gettext_lazy("a phone number"),
}

_NON_WORD = re.compile(r"\W")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_ACCOUNT = re.compile(
    r"\b(?:account|acct|a/c|iban|routing|sort\s+code)"
    r"(?:\s*(?:no\.?|number|num|#))?\s*[:#]?\s*(\d[\d -]{3,30}\d)",
    re.IGNORECASE,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_REFERENCE = re.compile(
    r"\b(?:order|ticket|case|ref|reference|tracking|confirmation|invoice|booking|flight)"
    r"(?:\s*(?:no\.?|number|num|id))?\s*[:#]?\s*#?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    kind: str  # email, card, account, phone
    text: str
    start: int
    end: int

    @property
    def label(self) -> str:
        return str(LABELS[self.kind])  # a lazy translation, made text in the current language


class PersonalData(ActionError):
    """A public reply with personal data that the agent has not confirmed."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.digest = digest(findings)
        listed = "; ".join(f"{f.label} ({f.text})" for f in findings)
        super().__init__(
            _(
                "This public reply seems to contain personal data: %(listed)s. Ask the "
                "customer to move to a DM instead, or confirm that it is meant to be public. "
                "Your text is kept."
            )
            % {"listed": listed}
        )


def find(text: str) -> list[Finding]:
    """What in `text` looks like personal data, in text order, no span reported twice."""
    masked = _URL.sub(lambda m: " " * len(m.group()), text)
    found: list[Finding] = []
    _add(found, "email", ((m.start(), m.end()) for m in _EMAIL.finditer(masked)), text)
    masked = _mask(masked, found)
    _add(found, "card", _cards(masked), text)
    _add(found, "account", _accounts(masked), text)
    _add(found, "phone", _phones(_mask(masked, found)), text)
    return sorted(found, key=lambda f: f.start)


def digest(findings: list[Finding]) -> str:
    """A short fingerprint of the findings: a confirmation covers exactly these."""
    keys = sorted(f"{f.kind}:{_NON_WORD.sub('', f.text).lower()}" for f in findings)
    return hashlib.sha256("|".join(keys).encode()).hexdigest()[:16]


def check(text: str, *, confirmed: str = "") -> None:
    """Raise PersonalData unless `text` has none or `confirmed` is their digest."""
    findings = find(text)
    if findings and confirmed != digest(findings):
        raise PersonalData(findings)


def _add(found: list[Finding], kind: str, spans, text: str) -> None:
    for start, end in spans:
        if not any(f.start < end and start < f.end for f in found):
            found.append(Finding(kind, text[start:end], start, end))


def _mask(text: str, found: list[Finding]) -> str:
    for f in found:
        text = text[: f.start] + " " * (f.end - f.start) + text[f.end :]
    return text


def _cards(text: str):
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn(digits):
            yield m.start(), m.end()


def _accounts(text: str):
    for m in _ACCOUNT.finditer(text):
        yield m.start(1), m.end(1)
    for m in _IBAN.finditer(text):
        if iban_valid(m.group()):
            yield m.start(), m.end()
    for m in _SSN.finditer(text):
        if not _REFERENCE.search(text[max(0, m.start() - 30) : m.start()]):
            yield m.start(), m.end()


def _phones(text: str):
    for m in phonenumbers.PhoneNumberMatcher(text, PHONE_REGION, phonenumbers.Leniency.VALID):
        if not _REFERENCE.search(text[max(0, m.start - 30) : m.start]):
            yield m.start, m.end


def luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(value: str) -> bool:
    iban = value.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
