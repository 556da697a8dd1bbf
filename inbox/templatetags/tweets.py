"""Showing tweet text, which is untrusted: escaped, and its links marked as user content."""

from __future__ import annotations

from django import template
from django.utils.html import urlize
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter(is_safe=True)
def tweet_text(text: str) -> SafeString:
    """Escape, link URLs with rel="noopener nofollow ugc", keep line breaks."""
    # urlize escapes everything that is not a link it builds; its rel is only "nofollow".
    html = urlize(text, trim_url_limit=60, nofollow=True, autoescape=True)
    html = html.replace('rel="nofollow"', 'rel="noopener nofollow ugc" target="_blank"')
    return mark_safe(html.replace("\n", "<br>"))  # safe: urlize escaped the text above
