"""Answers anyone may get: HEAD from monitors and `curl -I`, and a 403 that explains itself."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.parametrize("url", ["/healthz", "/stream/"])
def test_it_answers_head_like_get_on_public_pages(brand, client: Client, url: str):
    assert client.get(url).status_code == 200
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""


def test_it_still_refuses_posts_to_the_health_check(db: None, client: Client):
    assert client.post("/healthz").status_code == 405


def test_it_explains_a_forbidden_page_with_the_way_back(client, agent):
    client.force_login(agent.user)
    response = client.get("/sup/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "This page is not open to you" in body
    assert 'href="/">Back to the queue</a>' in body
