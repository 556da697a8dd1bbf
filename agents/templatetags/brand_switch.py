"""{% brand_choices agent as brands %}: the brands the top bar's switcher offers (cached,
agents.brands)."""

from __future__ import annotations

from django import template

from agents import brands
from agents.models import Agent

register = template.Library()


@register.simple_tag
def brand_choices(agent: Agent) -> list[brands.BrandChoice]:
    return brands.choices(agent)
