"""inbox.templatetags.tweets.tweet_text: the one filter that shows text from X."""

from __future__ import annotations

from django.template import engines
from django.utils.safestring import mark_safe

from inbox.templatetags.tweets import tweet_text


def test_it_escapes_the_text_and_marks_its_links_as_user_content():
    html = tweet_text('<script>alert(1)</script> "hi" see https://acme.example/x\nbye')
    assert "<script>" not in html and "&lt;script&gt;" in html and "&quot;hi&quot;" in html
    assert '<a href="https://acme.example/x" rel="noopener nofollow ugc" target="_blank">' in html
    assert html.endswith("<br>bye")


def test_it_escapes_text_already_marked_safe_and_with_autoescape_off():
    assert "<b>" not in tweet_text(mark_safe("<b>bold</b>"))
    page = engines["django"].from_string(
        "{% load tweets %}{% autoescape off %}{{ text|tweet_text }}{% endautoescape %}"
    )
    assert "<img" not in page.render({"text": "<img src=x onerror=alert(1)>"})


def test_it_shows_nothing_for_no_text():
    assert tweet_text(None) == "" and tweet_text("") == ""
