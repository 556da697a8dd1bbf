"""Search's bad input (issue 17): every filter that cannot be searched is answered with a
message naming it, on the page (200, the form with its errors) and in the API (a 400
problem naming the parameter), never a 500 and never another brand's rows."""

from __future__ import annotations

import pytest

from inbox.integrations import tokens
from inbox.models import Brand, Customer, Source
from tests.helpers import make_agent, make_thread_with_message

pytestmark = pytest.mark.django_db

NOT_A_DAY_UNTIL = "“Until” is not a day: write it as YYYY-MM-DD."
NOT_A_DAY_SINCE = "“Since” is not a day: write it as YYYY-MM-DD."
OUT_OF_RANGE = "must be a day from 2006-03-21 to 2999."
NO_EMPLOYEE = "There is no employee “{}” to search by."
NO_SOURCE = "There is no source “{}” to search by."
NO_STATUS = "There is no status “{}” to search by."
NO_CHANNEL = "There is no channel “{}” to search by."
NOT_A_CUSTOMER = "“customer” is not a customer's number."
NO_CUSTOMER = "There is no such customer to search by."
BIG = "9" * 25

# (id, the query's parameters, what the answer says); {other_*}: another brand's ids,
# {gone}: an id nobody has. "page" / "api": asked of that one only.
CASES = [
    ("until year alone", {"until": "9999"}, NOT_A_DAY_UNTIL),
    ("until month 13 day 45", {"until": "2026-13-45"}, NOT_A_DAY_UNTIL),
    ("until day 32", {"until": "2026-12-32"}, NOT_A_DAY_UNTIL),
    ("since 30 February", {"since": "2026-02-30"}, NOT_A_DAY_SINCE),
    ("since a word", {"since": "yesterday"}, NOT_A_DAY_SINCE),
    ("since with a time", {"since": "2026-01-01T00:00"}, NOT_A_DAY_SINCE),
    ("since year alone", {"since": "9999"}, NOT_A_DAY_SINCE),
    ("since US order", {"since": "12/31/2026"}, NOT_A_DAY_SINCE),
    ("since markup", {"since": "<script>alert(1)</script>"}, NOT_A_DAY_SINCE),
    ("until the last day there is", {"until": "9999-12-31"}, OUT_OF_RANGE),
    ("since year one", {"since": "0001-01-01"}, OUT_OF_RANGE),
    ("since before X", {"since": "1999-12-31"}, OUT_OF_RANGE),
    ("since after until", {"since": "2026-02-02", "until": "2026-01-01"}, "before “since”"),
    ("unknown status", {"status": "lost"}, NO_STATUS.format("lost")),
    ("status in capitals", {"status": "OPEN"}, NO_STATUS.format("OPEN")),
    ("status with SQL", {"status": "open' OR 1=1"}, NO_STATUS.format("open' OR 1=1")),
    ("status with a NUL", {"status": "op\x00en"}, "There is no status"),
    ("status with markup", {"status": "<b>x</b>"}, "There is no status"),
    ("unknown channel", {"channel": "fax"}, NO_CHANNEL.format("fax")),
    ("unknown language", {"lang": "xx"}, "There is no language “xx” to search by."),
    ("channel in capitals", {"channel": "DM"}, NO_CHANNEL.format("DM")),
    ("agent a word", {"agent": "abc"}, NO_EMPLOYEE.format("abc")),
    ("agent negative", {"agent": "-1"}, NO_EMPLOYEE.format("-1")),
    ("agent a fraction", {"agent": "1.5"}, NO_EMPLOYEE.format("1.5")),
    ("agent past bigint", {"agent": BIG}, NO_EMPLOYEE.format(BIG)),
    ("agent a space", {"agent": " "}, NO_EMPLOYEE.format(" ")),
    ("agent nobody has", {"agent": "{gone}"}, "There is no employee"),
    ("another brand's agent", {"agent": "{other_agent}"}, "There is no employee"),
    ("source a word", {"source": "abc"}, NO_SOURCE.format("abc")),
    ("source in e-notation", {"source": "1e3"}, NO_SOURCE.format("1e3")),
    ("source past bigint", {"source": BIG}, NO_SOURCE.format(BIG)),
    ("another brand's source", {"source": "{other_source}"}, "There is no source"),
    ("customer a word", {"customer": "abc"}, NOT_A_CUSTOMER),
    ("customer zero", {"customer": "0"}, NOT_A_CUSTOMER),
    ("customer negative", {"customer": "-5"}, NOT_A_CUSTOMER),
    ("customer past bigint", {"customer": BIG}, NOT_A_CUSTOMER),
    ("customer with SQL", {"customer": "1 OR 1=1"}, NOT_A_CUSTOMER),
    ("customer nobody has", {"customer": "{gone}"}, NO_CUSTOMER),
    ("another brand's customer", {"customer": "{other_customer}"}, NO_CUSTOMER),
    ("5,000 characters", {"q": "order " * 834}, "at most 200 characters"),
    ("201 characters", {"q": "a" * 201}, "at most 200 characters"),
    ("emoji alone", {"q": "😡😡"}, "Emoji and punctuation alone"),
    ("punctuation alone", {"q": "?!?! ..."}, "Emoji and punctuation alone"),
    ("two bad filters", {"until": "9999", "status": "lost"}, NO_STATUS.format("lost")),
    ("API: image neither true nor false", {"has_image": "maybe", "q": "x"}, "true or false"),
    ("API: a cursor it never gave", {"q": "order", "after": "zz_9_x"}, "not a cursor"),
    ("API: nothing asked", {"q": ""}, "Give `q` or a filter"),
    ("API: DMs with a token without", {"channel": "dm"}, "does not read direct messages"),
]


@pytest.fixture
def ids(brand) -> dict[str, int]:
    globex = Brand.objects.create(name="Globex", handle="globexhelp", x_user_id=9_000_002)
    lee = Customer.objects.create(brand=globex, x_user_id=43, handle="lee", name="Lee")
    make_thread_with_message(globex, lee, "my order never arrived")
    return {
        "other_agent": make_agent(globex, "gus").id,
        "other_source": Source.objects.create(brand=globex, kind=Source.Kind.MENTIONS).id,
        "other_customer": lee.id,
        "gone": 987_654_321,
    }


@pytest.mark.parametrize(("case", "params", "says"), CASES, ids=[c[0] for c in CASES])
def test_bad_search_input_is_a_message_never_an_error(
    client, agent, admin_agent, customer, brand, ids, case, params, says
):
    make_thread_with_message(brand, customer, "my order never arrived")
    params = {k: v.format(**ids) for k, v in params.items()}
    if not case.startswith("API:"):
        client.force_login(agent.user)
        page = client.get("/search/", params)
        assert page.status_code == 200
        body = page.content.decode()
        assert says.replace("'", "&#x27;") in body or says in body
        assert 'class="hit' not in body and "@lee" not in body  # nothing searched
        assert "<script>alert" not in body and "<b>x</b>" not in body
        client.logout()
    token = tokens.create_token(actor=admin_agent, name="CRM", scope="read").token
    api = client.get("/api/v1/search", params, HTTP_AUTHORIZATION=f"Bearer {token}")
    expected = 403 if "direct messages" in says else 400
    assert api.status_code == expected
    assert api["Content-Type"] == "application/problem+json"
    assert says in api.json()["detail"]


def test_a_bad_filter_names_its_parameter_in_the_api(client, admin_agent, customer):
    token = tokens.create_token(actor=admin_agent, name="CRM", scope="read").token
    answer = client.get(
        "/api/v1/search",
        {"q": "x", "until": "2026-13-45", "agent": "abc"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()
    assert {tuple(e["loc"]) for e in answer["errors"]} == {("query", "until"), ("query", "agent")}


def test_the_cases_are_many_and_distinct():
    assert len(CASES) >= 45 and len({c[0] for c in CASES}) == len(CASES)
