"""A useful subset of X's search query language, compiled to a Django Q over Tweet.

Supported, as X documents them: keywords and "quoted phrases" (case-insensitive, whole
words), #hashtags, @mentions, from:, to:, is:retweet, is:reply, is:quote, is:verified,
has:links, has:mentions, has:hashtags, lang:, conversation_id:, negation with a leading
`-` (on a term or a group), `OR` (upper case), and parentheses. Juxtaposition is AND and
binds tighter than OR. A query of negations only is refused, as X refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q

MAX_LENGTH = 512

_TOKEN = re.compile(
    r'\s*(?:(?P<open>-?\()|(?P<close>\))|(?P<neg>-?)(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s()"]+)))'
)
_OPERATOR = re.compile(r"^(?P<name>[a-z_]+):(?P<value>.+)$")


class QueryError(ValueError):
    """The query is not valid; the message is X's."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"There were errors processing your request: {reason}")


@dataclass(frozen=True)
class Token:
    kind: str  # "open", "close", "or", "term"
    value: str = ""
    negated: bool = False
    quoted: bool = False
    position: int = 0


@dataclass
class Compiled:
    q: Q
    positive: bool  # matches by inclusion somewhere, not only by exclusion


def compile_query(query: str) -> Q:
    if len(query) > MAX_LENGTH:
        raise QueryError(f"Query is longer than {MAX_LENGTH} characters")
    parser = _Parser(_tokenize(query))
    compiled = parser.parse_or()
    if parser.peek() is not None:
        raise QueryError(f"Unbalanced parentheses (at position {parser.peek().position + 1})")
    if not compiled.positive:
        raise QueryError("Rules must contain a non-negation term (at position 1)")
    return compiled.q


def _tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(query.rstrip()):
        match = _TOKEN.match(query, position)
        if match is None:
            raise QueryError(f"Unmatched quotation mark (at position {position + 1})")
        tokens.append(_token(match))
        position = match.end()
    return tokens


def _token(match: re.Match[str]) -> Token:
    start = match.start() + len(match.group()) - len(match.group().lstrip())
    if match.group("open"):
        return Token("open", negated=match.group("open").startswith("-"), position=start)
    if match.group("close"):
        return Token("close", position=start)
    negated = bool(match.group("neg"))
    if match.group("phrase") is not None:
        return Token("term", match.group("phrase"), negated, quoted=True, position=start)
    word = match.group("word")
    if word == "OR" and not negated:
        return Token("or", position=start)
    return Token("term", word, negated, position=start)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse_or(self) -> Compiled:
        result = self.parse_and()
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            right = self.parse_and()
            result = Compiled(result.q | right.q, result.positive and right.positive)
        return result

    def parse_and(self) -> Compiled:
        parts: list[Compiled] = []
        while (token := self.peek()) is not None and token.kind not in ("or", "close"):
            parts.append(self.parse_unary())
        if not parts:
            where = token.position + 1 if token else "end"
            raise QueryError(f"Expected a term (at position {where})")
        q = parts[0].q
        for part in parts[1:]:
            q &= part.q
        return Compiled(q, any(part.positive for part in parts))

    def parse_unary(self) -> Compiled:
        token = self.take()
        if token.kind == "open":
            inner = self.parse_or()
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise QueryError(f"Unbalanced parentheses (at position {token.position + 1})")
            self.take()
            return Compiled(~inner.q, False) if token.negated else inner
        term = _term(token)
        return Compiled(~term, False) if token.negated else Compiled(term, True)


def _term(token: Token) -> Q:
    if token.quoted:
        return Q(text__iregex=_words(" ".join(token.value.split())))
    word = token.value
    if word.startswith("#") and len(word) > 1:
        return Q(text__iregex=r"(^|\W)" + re.escape(word) + r"\M")
    if word.startswith("@") and len(word) > 1:
        return Q(text__iregex=r"(^|\W)" + re.escape(word) + r"\M")
    operator = _OPERATOR.match(word)
    if operator and not operator.group("value").startswith("//"):
        return _operator(operator.group("name"), operator.group("value"), token.position)
    return Q(text__iregex=_words(word))


def _words(value: str) -> str:
    """Whole-word, case-insensitive match (PostgreSQL's \\m and \\M mark word edges)."""
    pattern = re.escape(value)
    if re.match(r"\w", value):
        pattern = r"\m" + pattern
    if re.search(r"\w$", value):
        pattern += r"\M"
    return pattern


_IS = {
    "retweet": Q(retweeted_tweet_id__isnull=False),
    "reply": Q(in_reply_to_tweet_id__isnull=False),
    "quote": Q(quoted_tweet_id__isnull=False),
    "verified": Q(author__verified=True),
}
_HAS = {"links": "urls", "mentions": "mentions", "hashtags": "hashtags"}


def _operator(name: str, value: str, position: int) -> Q:
    value = value.strip('"')
    if name in ("from", "to"):
        field = "author" if name == "from" else "in_reply_to_user"
        handle = value.removeprefix("@")
        return (
            Q(**{f"{field}_id": int(handle)})
            if handle.isdigit()
            else Q(**{f"{field}__username__iexact": handle})
        )
    if name == "is" and value in _IS:
        return _IS[value]
    if name == "has" and value in _HAS:
        return Q(entities__has_key=_HAS[value])
    if name == "lang":
        return Q(lang=value)
    if name == "conversation_id" and value.isdigit():
        return Q(conversation_id=int(value))
    raise QueryError(
        f"Reference to invalid operator '{name}:{value}'. Operator is not available in current "
        "product or product packaging. Please refer to complete available operator list at "
        "https://developer.x.com/en/docs/twitter-api/tweets/search/integrate/build-a-query. "
        f"(at position {position + 1})"
    )
