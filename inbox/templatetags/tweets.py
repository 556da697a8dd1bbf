"""Showing text from X (tweets, DMs, replies, customers' bios), which is untrusted: the one
filter every template uses for it, so escaping it has one home."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import urlize
from django.utils.safestring import SafeString, mark_safe

from inbox.rules import media as thumbs

register = template.Library()


@register.filter
def tweet_text(text: object) -> SafeString:
    """Escape, link URLs with rel="noopener nofollow ugc", keep line breaks.

    Escaped always, whatever the template's autoescape and whatever arrives: urlize leaves
    text already marked safe unescaped, so the text is made a plain str first."""
    plain = str.__str__("" if text is None else str(text))
    # urlize escapes everything that is not a link it builds; its rel is only "nofollow",
    # and the escaped text can hold no `"`, so only urlize's own attribute matches here.
    html = urlize(plain, trim_url_limit=60, nofollow=True, autoescape=True)
    html = html.replace('rel="nofollow"', 'rel="noopener nofollow ugc" target="_blank"')
    return mark_safe(html.replace("\n", "<br>"))  # noqa: S308 - urlize escaped the text above


@register.filter
def x_media(media: object) -> list[thumbs.Thumb]:
    """The attached images a page may show (inbox.rules.media): on X's media host only."""
    return thumbs.thumbs(media, settings.X_MEDIA_ORIGINS)
