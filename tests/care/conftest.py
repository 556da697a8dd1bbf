from __future__ import annotations

import pytest

from inbox.models import Brand, Source


@pytest.fixture
def source(brand: Brand) -> Source:
    return Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
