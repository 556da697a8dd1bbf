from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twelp.settings")
# The push process checks a persistent connection before each job's first query (settings,
# DB_HEALTH_CHECKS): a render lost to a connection PostgreSQL dropped would leave its pages
# a change behind until the next one, where the web loses only the one request.
if not os.environ.get("DB_HEALTH_CHECKS"):  # unset or empty (docker-compose passes it empty)
    os.environ["DB_HEALTH_CHECKS"] = "true"

application = get_asgi_application()
