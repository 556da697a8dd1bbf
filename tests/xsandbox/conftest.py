"""The sandbox fixtures live in tests/sandbox.py, a plugin of the whole suite (see
tests/conftest.py); this re-export keeps `from tests.xsandbox.conftest import …` working."""

from tests.sandbox import *  # noqa: F403
from tests.sandbox import ADMIN_TOKEN, BRAND_ID, CREDENTIALS, Sandbox  # noqa: F401
