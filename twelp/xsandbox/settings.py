"""Settings of the X sandbox process: Twelp's, with the sandbox's URLs and cookies.

DJANGO_SETTINGS_MODULE=twelp.xsandbox.settings gunicorn twelp.xsandbox.wsgi:application
"""

from __future__ import annotations

from twelp.env import envlist
from twelp.settings import *  # noqa: F403  (the same database and X credentials)
from twelp.settings import INSTALLED_APPS
from twelp.xsandbox.conf import sandbox_settings

globals().update(sandbox_settings())

# The sandbox's app (its tables, migrations and the xsandbox_* commands) is installed here
# only: Twelp's settings leave it out. Migrate its tables with
# `DJANGO_SETTINGS_MODULE=twelp.xsandbox.settings python manage.py migrate` (the demo does).
INSTALLED_APPS = [*INSTALLED_APPS, "twelp.xsandbox"]

# It answers as api.x.com would, on whatever name compose or a test gives it.
ALLOWED_HOSTS = envlist("XSANDBOX_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

# The sandbox keeps its sessions in signed cookies (conf.sandbox_settings), which
# django-otp-webauthn's check refuses because a WebAuthn ceremony's state in such a cookie
# could be replayed. The sandbox serves no WebAuthn ceremony (Twelp does, with sessions in
# Redis); it has the app only because it shares Twelp's INSTALLED_APPS and database.
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E040"]
