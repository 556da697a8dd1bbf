"""Row-level push (inbox.live.patch): the queue's and the dashboard's live parts cut at
their marks, and the patch between two renders, applied, gives exactly the second."""

from __future__ import annotations

import json
import re

import pytest
from django.http import QueryDict

from inbox import actions
from inbox.live import patch, version
from inbox.models import Customer
from inbox.views import queue, supervision
from tests.helpers import make_agent, make_thread


def render(view, agent) -> str:
    version.bump(agent.brand_id)  # a new version: the shared render is made again
    return view.render(agent)


def squeezed(html: str) -> str:
    """The whitespace between rows is not kept (a page's DOM has no use for it)."""
    return re.sub(r">\s+<", "><", html.strip())


def same_but_version(a: str, b: str) -> bool:
    """Equal but for the part's first tag (its polling fallback's `v=`)."""
    a, b = squeezed(a), squeezed(b)
    return a[a.index(">") :] == b[b.index(">") :]


def someone(brand, n: int) -> Customer:
    # One customer each: the queue's rows say "+N more from @x" of a customer's others.
    return Customer.objects.create(brand=brand, x_user_id=5000 + n, handle=f"c{n}", name=f"C{n}")


@pytest.fixture
def threads(brand):
    return [make_thread(brand, someone(brand, n), 100 + n, preview=f"order {n}") for n in range(5)]


def test_a_queue_render_splits_into_rows_by_thread_and_back(agent, threads):
    html = render(queue.live_view(agent, QueryDict("status=open")), agent)
    found = patch.split(html)
    assert found is not None
    assert list(found.rows["rows"]) == [str(t.id) for t in threads]
    assert set(found.parts) == {"queue-counts", "queue-budgets"}
    assert squeezed(found.html()) == squeezed(html)


def test_a_claim_patches_one_row_and_applies_to_what_a_render_shows(agent, second_agent, threads):
    view = queue.live_view(agent, QueryDict("status=open"))
    claimed = queue.live_view(agent, QueryDict("status=claimed"))
    before, before_claimed = render(view, agent), render(claimed, agent)
    actions.do_claim(threads[2].id, agent=second_agent)
    after, after_claimed = render(view, agent), render(claimed, agent)

    open_patch = patch.diff(patch.split(before), patch.split(after))
    assert open_patch is not None
    found = json.loads(open_patch)
    # The open queue: the row left, nothing re-sent but the tabs' counts.
    assert found["rows"] == {
        "rows": {"order": [str(t.id) for t in threads if t != threads[2]], "html": {}}
    }
    assert set(found["parts"]) == {"queue-counts"}
    applied = patch.apply(patch.split(before), open_patch)
    assert same_but_version(applied.html(), after)

    # The claimed tab: its empty row replaced by the one row, with its holder.
    claimed_patch = patch.diff(patch.split(before_claimed), patch.split(after_claimed))
    rows = json.loads(claimed_patch)["rows"]["rows"]
    assert rows["order"] == [str(threads[2].id)]
    assert f'data-holder="{second_agent.id}"' in rows["html"][str(threads[2].id)]
    applied = patch.apply(patch.split(before_claimed), claimed_patch)
    assert same_but_version(applied.html(), after_claimed)


def test_a_new_thread_is_one_new_row_in_its_place(agent, brand, threads):
    view = queue.live_view(agent, QueryDict("status=open"))
    before = render(view, agent)
    new = make_thread(brand, someone(brand, 99), 999, preview="brand new", priority=9)
    after = render(view, agent)
    found = json.loads(patch.diff(patch.split(before), patch.split(after)))
    assert list(found["rows"]["rows"]["html"]) == [str(new.id)]
    assert str(new.id) in found["rows"]["rows"]["order"]
    assert same_but_version(patch.apply(patch.split(before), json.dumps(found)).html(), after)


def test_the_dashboard_patch_is_the_rows_that_changed(supervisor, brand, threads):
    team = [make_agent(brand, f"agent{n}", code=f"C{n:02}") for n in range(30)]
    view = supervision.live_view(supervisor, QueryDict(""))
    before = render(view, supervisor)
    actions.do_claim(threads[0].id, agent=team[7])
    after = render(view, supervisor)
    old, new = patch.split(before), patch.split(after)
    assert old is not None and new is not None
    assert str(team[7].id) in new.rows["dash-team"]
    found = patch.diff(old, new)
    assert found is not None
    changed = json.loads(found)
    assert list(changed["rows"]["dash-team"]["html"]) == [str(team[7].id)]
    assert "dash-tiles" in changed["parts"]  # claimed 0 -> 1
    assert same_but_version(patch.apply(old, found).html(), after)
    assert len(found) * 3 < len(after)


def test_hostile_text_cannot_forge_or_break_a_mark(agent, brand, customer):
    forged = '<tr data-row="1"> id="x" data-rows data-part </tbody></tr>" data-row="2"'
    make_thread(brand, customer, 1, preview=forged)
    make_thread(brand, customer, 2, preview="plain")
    html = render(queue.live_view(agent, QueryDict("status=open")), agent)
    found = patch.split(html)
    assert found is not None
    assert len(found.rows["rows"]) == 2 and set(found.parts) == {"queue-counts", "queue-budgets"}
    assert squeezed(found.html()) == squeezed(html)


@pytest.mark.parametrize(
    "html",
    [
        '<div id="a"><ul id="r" data-rows><li>no key</li></ul></div>',
        '<div id="a"><ul id="r" data-rows><li data-row="1">x</li>text<li data-row="2">'
        "y</li></ul></div>",
        '<div id="a"><ul id="r" data-rows><li data-row="1">x</li><li data-row="1">y</li>'
        "</ul></div>",
        '<div id="a"><p id="p" data-part>never closed</div>',
        "<div>nothing marked</div>",
    ],
)
def test_what_does_not_follow_the_rules_is_not_split(html):
    assert patch.split(html) is None


def test_a_changed_shell_or_a_bigger_patch_means_the_whole_part():
    def part(version: int, heading: str, row: str):
        rows = f'<ul id="r" data-rows><li data-row="1">{row}</li></ul>'
        return patch.split(f'<div id="a" v={version}><h2>{heading}</h2>{rows}</div>')

    a, b, c = part(1, "A", "x"), part(2, "B", "x"), part(3, "A", "y")
    assert patch.diff(a, b) is None  # the heading is not marked: only the whole part will do
    assert patch.diff(a, c) is None  # a one-row part: the patch is no smaller
    assert patch.diff(a, part(4, "A", "x")) == '{"parts":{},"rows":{}}'  # the version moved


def test_a_waiting_time_that_only_aged_is_not_sent():
    def part(label: str, holder: str = ""):
        row = f'<tr data-row="1"{holder}><td><time datetime="x" data-since>{label}</time></td></tr>'
        return patch.split(
            f'<div id="a"><table><tbody id="r" data-rows>{row}</tbody></table></div>'
        )

    assert patch.diff(part("5\xa0minutes"), part("6\xa0minutes")) == '{"parts":{},"rows":{}}'
    claimed = json.loads(patch.diff(part("5\xa0minutes"), part("6\xa0minutes", ' data-holder="2"')))
    assert "6\xa0minutes" in claimed["rows"]["r"]["html"]["1"]  # sent for its claim, label fresh


def test_the_dashboards_chart_sends_the_bars_that_moved(supervisor, brand, customer):
    view = supervision.live_view(supervisor, QueryDict(""))
    before = patch.split(render(view, supervisor))
    make_thread(brand, customer, 4242, preview="one more in")
    after_html = render(view, supervisor)
    after = patch.split(after_html)
    assert set(after.rows) >= {"dash-chart-in", "dash-chart-out", "dash-chart-ticks"}
    assert len(after.rows["dash-chart-in"]) == 24 and "dash-legend" in after.parts
    found = patch.diff(before, after)
    assert same_but_version(patch.apply(before, found).html(), after_html)


def test_every_mark_in_the_live_templates_is_one_the_scanner_finds():
    """A mark written with another attribute first would be missed (the part would then
    be shell, and every change to it would send the whole part)."""
    from pathlib import Path

    for name in ("queue.html", "dashboard.html"):
        text = (Path(__file__).resolve().parents[3] / "templates" / "inbox" / name).read_text()
        tags = re.findall(r"<[a-z][a-z0-9]*\b[^>]*\bdata-(?:part|rows)\b[^>]*>", text)
        assert tags and all(patch._MARK.fullmatch(tag) for tag in tags), tags
