"""Settings the sandbox process changes from Twelp's, in one place.

twelp/xsandbox/settings.py applies them to the sandbox process; the tests apply the same
ones to the sandbox server they run in a thread, so both serve the same configuration.
"""

from __future__ import annotations

from csp.constants import NONCE, NONE, SELF

from twelp.env import envbool

# The sandbox's own Content-Security-Policy (not Twelp's): its one page keeps its inline
# <style> and <script>, allowed by a per-request nonce, so a payload in a fake tweet still
# runs nothing. Its persona views send it (twelp.xsandbox.views), in its own process and
# when a test serves it in a thread beside Twelp.
POLICY = {
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF, NONCE],
    "img-src": [SELF, "data:"],
    "frame-ancestors": [NONE],
    "form-action": [SELF],
    "base-uri": [NONE],
    "object-src": [NONE],
}


def sandbox_settings() -> dict[str, object]:
    return {
        "ROOT_URLCONF": "twelp.xsandbox.urls",
        "WSGI_APPLICATION": "twelp.xsandbox.wsgi.application",
        # The persona lives in a signed cookie: nothing server-side to keep or share.
        "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies",
        # Browsers do not separate cookies by port: Twelp on :8000 and the sandbox on :8001
        # would overwrite each other's session and CSRF cookies under the default names.
        "SESSION_COOKIE_NAME": "xsandbox_session",
        "CSRF_COOKIE_NAME": "xsandbox_csrftoken",
        # Flash messages ride in that session, not in the shared "messages" cookie.
        "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage",
        # A local test double served over plain HTTP (tweepy is pointed at http://...).
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": envbool("XSANDBOX_SECURE_COOKIES", False),
        "CSRF_COOKIE_SECURE": envbool("XSANDBOX_SECURE_COOKIES", False),
        # Its API and error answers too; no report-uri: the sandbox has no such endpoint.
        "CONTENT_SECURITY_POLICY": {"DIRECTIVES": POLICY},
    }
