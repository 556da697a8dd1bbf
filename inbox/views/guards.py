"""The guard of the collision warnings' views (inbox.views.viewers), which answer from
Redis alone: under `employee` (which passes who = brand id, agent id, name) it throttles
the employee (inbox.views.throttle), and a thread of another brand, or none, is a 404 as on
every other URL (tests/test_cross_brand.py).

A thread's brand comes from the cache (a thread never changes brand), so only the first
poll of a thread reads PostgreSQL; until then nothing of another brand was ever shown
(the viewers are kept per brand), but the answer said 200 for any number.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from inbox.models import Thread
from inbox.views import throttle

View = Callable[..., HttpResponse]
BRAND_SECONDS = 24 * 3600


def viewer(scope: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(
            request: HttpRequest, who: tuple[int, int, str], *args: object, **kwargs: object
        ) -> HttpResponse:
            refused = throttle.check(scope, who[1])
            if refused is not None:
                return throttle.answer(request, refused)
            thread_id = kwargs.get("thread_id")
            if thread_id is not None and brand_of(int(thread_id)) != who[0]:  # type: ignore[call-overload]
                raise Http404(_("No such thread."))
            return view(request, who, *args, **kwargs)

        return wrapper

    return decorator


def brand_of(thread_id: int) -> int | None:
    """The thread's brand id (None: no such thread), cached."""
    key = f"thread-brand:{thread_id}"
    brand_id = cache.get(key)
    if brand_id is None:
        brand_id = Thread.objects.filter(id=thread_id).values_list("brand_id", flat=True).first()
        if brand_id is not None:
            cache.set(key, brand_id, BRAND_SECONDS)
    return brand_id
