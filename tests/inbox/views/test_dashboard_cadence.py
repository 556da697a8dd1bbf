"""Issue 21, checked: the dashboard's Pollers table shows each source's cadence (the poll
itself counts the next one from its start: tests/inbox/ingest/test_poll.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from inbox.models import Source


def test_the_pollers_table_shows_each_sources_cadence(client, supervisor, brand):
    Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    Source.objects.create(
        brand=brand, kind=Source.Kind.SEARCH, query="acme", poll_interval=timedelta(minutes=2)
    )
    client.force_login(supervisor.user)
    page = client.get("/sup/").content.decode()
    pollers = page.split('id="pollers"', 1)[1].split("</table>", 1)[0]
    assert "<th>Polled every</th>" in pollers
    cadences = re.findall(r"<tr data-row=\"\d+\">\s*<td>[^<]*</td>\s*<td>([^<]+)</td>", pollers)
    assert sorted(cadences) == ["15 s", "2 min"]
