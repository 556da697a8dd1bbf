from __future__ import annotations

import pytest

from tests.supervision.helpers import build_scenario


@pytest.fixture
def scenario(brand, customer, agent, second_agent):
    return build_scenario(brand, customer, agent, second_agent)
