"""Monitors and `curl -I` ask with HEAD: the public pages answer it as they answer GET."""

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
