from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twelp.settings")
# The push process checks a persistent connection before each job's first query (settings,
# DB_HEALTH_CHECKS): a render lost to a connection PostgreSQL dropped would leave its pages
# a change behind until the next one, where the web loses only the one request.
if not os.environ.get("DB_HEALTH_CHECKS"):  # unset or empty (docker-compose passes it empty)
    os.environ["DB_HEALTH_CHECKS"] = "true"

import django  # noqa: E402 - after the settings module is named
from asgiref.sync import ThreadSensitiveContext, sync_to_async  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.db import connections  # noqa: E402


class PushHandler(ASGIHandler):
    """Django's ASGI handler, without a thread for each open stream (issue 14).

    Django runs a request's synchronous code (here the sync-only middleware: the session,
    the SSO re-check, presence) on a thread of the request's own (asgiref's
    ThreadSensitiveContext) and keeps that thread until the request ends. A stream's
    request ends when its page goes: the push process held one idle thread per open stream
    (705 threads with 700 streams, BENCHMARKS.md, issue 14, stop 37). Here the request's
    own thread lasts while the middleware and the view answer, then goes: a stream's
    messages are written by the event loop, its renders and reads run in the hub's bounded
    pool (inbox.live.hub), and the end of the response (`response.close`, the
    request_finished signal) runs on the process's shared sync thread, as anything sync
    outside a request does. A database connection the request's thread took is closed (or
    handed back to the pool) before the thread goes."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def run_get_response(self, request):
        async with ThreadSensitiveContext():
            try:
                return await super().run_get_response(request)
            finally:
                await sync_to_async(connections.close_all, thread_sensitive=True)()


django.setup(set_prefix=False)
application = PushHandler()
