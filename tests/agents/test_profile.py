"""An employee's profile: credit code, credits (newest first, keyset-paginated), claims."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from inbox.models import Brand, Reply, ThreadStatus
from tests.helpers import make_agent, make_thread


def post_replies(agent, customer, count: int, start_x_id: int = 1000) -> list[Reply]:
    thread = make_thread(agent.brand, customer, start_x_id, status=ThreadStatus.ANSWERED)
    now = timezone.now()
    return Reply.objects.bulk_create(
        Reply(
            thread=thread, agent=agent, text=f"answer {i}", credit=f"^{agent.credit_code}",
            body=f"answer {i} ^{agent.credit_code}", status="posted",
            posted_x_id=start_x_id + i, posted_at=now - timedelta(minutes=i % 7, seconds=i),
        )
        for i in range(count)
    )  # fmt: skip


def test_it_shows_my_credit_code_credits_and_claims(client, agent, second_agent, customer):
    credits = post_replies(agent, customer, 3)
    post_replies(second_agent, customer, 2, start_x_id=5000)  # not mine
    thread = make_thread(agent.brand, customer, 1)
    Reply.objects.create(thread=thread, agent=agent, text="queued", body="queued ^AL")
    claimed = make_thread(
        agent.brand, customer, 2, status=ThreadStatus.CLAIMED, claimed_by=agent,
        claim_expires_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    client.force_login(agent.user)
    response = client.get("/team/me/")
    assert response.status_code == 200
    assert response.context["member"] == agent
    assert "^AL" in response.content.decode()
    newest_first = sorted(credits, key=lambda r: (r.posted_at, r.id), reverse=True)
    assert response.context["credits"] == newest_first
    assert response.context["claims"] == [claimed]


def test_it_pages_credits_by_cursor_without_repeats(
    client, agent, customer, django_assert_max_num_queries
):
    post_replies(agent, customer, 120)
    client.force_login(agent.user)
    seen: list[int] = []
    url = "/team/me/"
    while url:
        with django_assert_max_num_queries(5):
            response = client.get(url, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert "<html" not in html
        seen += [int(pk) for pk in re.findall(r'data-reply-id="(\d+)"', html)]
        more = re.search(r'class="more" href="([^"]+)"', html)
        url = "/team/me/" + more.group(1) if more else ""
    assert len(seen) == len(set(seen)) == 120
    order = list(Reply.objects.filter(id__in=seen).order_by("-posted_at", "-id"))
    assert [r.id for r in order] == seen


def test_supervisors_see_anyones_profile_in_their_brand_only(client, supervisor, agent):
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    stranger = make_agent(other, "zed")
    client.force_login(supervisor.user)
    assert client.get(f"/team/{agent.id}/").status_code == 200
    assert client.get(f"/team/{stranger.id}/").status_code == 404


def test_agents_see_only_their_own(client, agent, second_agent):
    client.force_login(agent.user)
    assert client.get(f"/team/{second_agent.id}/").status_code == 403
    body = client.get("/team/me/").content.decode()
    assert 'href="/team/me/"' in body and 'href="/team/"' not in body


def test_the_nav_links_supervisors_to_the_team(client, supervisor):
    client.force_login(supervisor.user)
    body = client.get("/").content.decode()
    assert 'href="/team/"' in body and 'href="/team/me/"' in body


def test_it_starts_from_the_top_on_a_tampered_cursor(client, agent, customer):
    post_replies(agent, customer, 2)
    client.force_login(agent.user)
    for cursor in ("garbage", "1_2_3", "99999999999999999999999_1"):
        response = client.get(f"/team/me/?after={cursor}")
        assert response.status_code == 200 and len(response.context["credits"]) == 2


def test_the_team_page_pages_by_name(client, admin_agent, django_assert_max_num_queries):
    for i in range(60):
        make_agent(admin_agent.brand, f"user{i:02d}", code=f"U{i}")
    client.force_login(admin_agent.user)
    seen: list[int] = []
    url = "/team/"
    while url:
        with django_assert_max_num_queries(6):
            response = client.get(url, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        seen += [int(pk) for pk in re.findall(r'data-agent-id="(\d+)"', html)]
        more = re.search(r'class="more" href="([^"]+)"', html)
        url = "/team/" + more.group(1).replace("&amp;", "&") if more else ""
    assert len(seen) == len(set(seen)) == 61


def test_the_team_page_starts_from_the_top_on_a_tampered_cursor(client, admin_agent):
    client.force_login(admin_agent.user)
    for cursor in ("garbage", "1:alice", "zz_1", "ff_1", "616c696365_99999999999999999999"):
        response = client.get(f"/team/?after={cursor}")
        assert response.status_code == 200 and len(response.context["members"]) == 1
