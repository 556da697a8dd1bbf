"""Settings of the benchmark processes: Twelp's production settings, on local servers.

bench.common.configure() fills the environment first (DEBUG off, a database and a Redis
db of the benchmark's own, the sandbox's demo credentials); this module only changes what
a production deploy gets from `collectstatic`: plain static URLs instead of the manifest.
"""

from __future__ import annotations

import warnings

from twelp.settings import *  # noqa: F403
from twelp.settings import INSTALLED_APPS, STORAGES

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# whitenoise looks for STATIC_ROOT, which only `collectstatic` makes: it serves the files
# from where they are instead (bench.day --browsers: real pages load twelp.js, htmx).
warnings.filterwarnings("ignore", "No directory at", UserWarning)
WHITENOISE_USE_FINDERS = True
# The benchmark drivers seed and read the sandbox's tables in-process (as the tests do), and
# migrate them with these settings: its app is installed here, never in Twelp's own.
INSTALLED_APPS = [*INSTALLED_APPS, "twelp.xsandbox"]
# The benchmarks create agents and log them in with force_login: no password is checked.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
