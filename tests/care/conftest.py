from __future__ import annotations

import pytest

from inbox.models import Brand, Source


@pytest.fixture
def source(brand: Brand) -> Source:
    return Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)


@pytest.fixture
def twelp_pages(sandbox_settings):
    """Twelp's own pages in this process (the sandbox fixture gave it the sandbox's)."""
    from django.conf import global_settings

    from tests import settings as ours
    from twelp.xsandbox import conf

    for name in conf.sandbox_settings():
        default = getattr(global_settings, name, None)
        setattr(sandbox_settings, name, getattr(ours, name, default))
