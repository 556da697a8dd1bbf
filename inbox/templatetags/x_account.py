"""{% x_account_problem brand %}: why the brand cannot call X, for the admins' banner."""

from __future__ import annotations

from django import template

from inbox.configure import credentials
from inbox.models import Brand

register = template.Library()


@register.simple_tag
def x_account_problem(brand: Brand) -> str:
    return credentials.banner(brand)
