"""Twelp's settings: all from the environment (see .env.example), failing loudly when wrong."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from twelp import embedded
from twelp.env import envbool, envdecimal, envint, envlist, envsecret, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("TWELP_VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = envbool("DEBUG", False)


def _dev_secret_key() -> str:
    """DEBUG only: a random key kept in var/ so logins survive a restart of the demo."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = envsecret("SECRET_KEY") if not DEBUG else envstr("SECRET_KEY", "") or _dev_secret_key()

_LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", _LOCAL_HOSTS) if DEBUG else envlist("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
# Where the public can reach this app; used in printed URLs and links.
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    # django-csp: its system checks catch settings of its older, incompatible versions.
    "csp",
    "axes",
    # Two-factor (agents.twofactor): TOTP apps, and one-use recovery codes (static tokens).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Security keys and passkeys (WebAuthn) as a django-otp device (agents.twofactor).
    "django_otp_webauthn",
    "agents",
    "inbox",
    # Not the X sandbox: it is a separate process with its own settings (twelp/xsandbox/
    # settings.py) that Twelp reaches only over HTTP.
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (django-csp's, its header built once: twelp.security, 4;
    # settings.CONTENT_SECURITY_POLICY), then the other browser policies
    # (Permissions-Policy, Cross-Origin-Resource-Policy).
    "twelp.security.CSPMiddleware",
    "twelp.security.browser_policies",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Issue 21: restores the language active before the request once it is answered (an
    # employee's own pick is activated by agents.access.role_required for the rest of it).
    "twelp.i18n.language_scope",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session, before CommonMiddleware (Django's documented order): the
    # browser's language (Accept-Language) until an employee's own pick replaces it.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Single sign-on: a session the provider started ends once the provider disowns it.
    "agents.sso.recheck",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
    # Innermost: with DEBUG on (the demo), our 404 page instead of Django's technical one.
    "twelp.errors.debug_not_found",
]

ROOT_URLCONF = "twelp.urls"
WSGI_APPLICATION = "twelp.wsgi.application"

# Django's form renderer, its plain <input> and <textarea> written in Python (twelp.widgets,
# issue 14): the same HTML.
FORM_RENDERER = "twelp.widgets.Renderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # `{% url %}` in every template, each URL shape reversed once per process
            # (twelp.links, issue 14): Django's own tag, cheaper.
            "builtins": ["twelp.links"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- PostgreSQL and Redis: the servers named in the environment, else the embedded ones ---

DATABASE_URL = envstr("DATABASE_URL", "")
REDIS_URL = envstr("REDIS_URL", "")
# Which servers Twelp starts itself under var/ (manage.py, the demo, the test suite).
EMBEDDED_POSTGRES = not DATABASE_URL
EMBEDDED_REDIS = not REDIS_URL

# A connection pool per process (Django's, over psycopg_pool): at most DB_POOL_MAX
# connections however many threads or open streams the process serves, so the connection
# count is processes x DB_POOL_MAX, not threads. 0 (the default) keeps one persistent
# connection per thread (DB_CONN_MAX_AGE). Django's pool requires CONN_MAX_AGE=0: the pool
# keeps the connections, so DB_CONN_MAX_AGE is not used while it is on.
DB_POOL_MAX = envint("DB_POOL_MAX", 0, minimum=0)
DB_POOL_MIN = envint("DB_POOL_MIN", min(2, DB_POOL_MAX), minimum=0)
# Seconds a request waits for a free pooled connection before it fails (503, like a
# database that is down) [10].
DB_POOL_TIMEOUT = envint("DB_POOL_TIMEOUT", 10, minimum=1)
if DB_POOL_MIN > DB_POOL_MAX:
    raise ImproperlyConfigured(f"DB_POOL_MIN={DB_POOL_MIN} exceeds DB_POOL_MAX={DB_POOL_MAX}.")
_CONN_MAX_AGE = 0 if DB_POOL_MAX else envint("DB_CONN_MAX_AGE", 60, minimum=0)
# Issue 14: a persistent connection is checked (`SELECT 1`) before its first query of every
# request only with this on [false]. Off, Django still checks it after a request whose query
# failed (and closes it if broken), so a connection PostgreSQL dropped (a restart) costs one
# request a 503, not every request a round trip. The push process turns it on (twelp/asgi.py):
# a render it loses to a dropped connection is a change a page would miss until the next.
DB_HEALTH_CHECKS = envbool("DB_HEALTH_CHECKS", False)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=_CONN_MAX_AGE, conn_health_checks=DB_HEALTH_CHECKS
        )
    }
else:
    DATABASES = {
        "default": {
            **embedded.database_settings(VAR_DIR),
            "CONN_MAX_AGE": _CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": DB_HEALTH_CHECKS,
        }
    }
# Prepared statements, for the hot statements written for them (inbox.actions' claim next
# runs on a server-binding cursor; the ORM's client-side cursors never prepare). Turn off
# behind a pooler in transaction mode that cannot keep them (PgBouncer before 1.21).
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
    5 if envbool("DB_PREPARED_STATEMENTS", True) else None
)
if DB_POOL_MAX:
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": DB_POOL_MIN,
        "max_size": DB_POOL_MAX,
        "timeout": DB_POOL_TIMEOUT,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if not REDIS_URL:
    REDIS_URL = embedded.redis_url(VAR_DIR)

CACHES = {
    "default": {
        "BACKEND": "twelp.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": envstr("CACHE_KEY_PREFIX", "twelp"),
    }
}
# Sessions live in Redis: a live refresh must not touch PostgreSQL (DESIGN.md).
SESSION_ENGINE = "twelp.sessions"  # the cache's, but Redis down is an error (twelp/sessions.py)
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = envbool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)


def _celery_broker(url: str) -> str:
    # redis-py spells a socket unix:///path?db=N; kombu, redis+socket:///path?virtual_host=N.
    if not url.startswith("unix://"):
        return url
    return "redis+socket://" + url.removeprefix("unix://").replace("?db=", "?virtual_host=")


CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", _celery_broker(REDIS_URL))
# The queue tasks are sent to and workers consume: two deployments (or test runs) on one
# Redis db, each with its own, never take each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = envstr("CELERY_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 100, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# acks_late + Redis: a task not acked within this many seconds is delivered again; it
# must exceed the longest task so a slow task is not run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 600)}
CELERY_TIMEZONE = "UTC"
# Every periodic task, with its cadence and why.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Claims past their lease go back to the queue; the lease is minutes, so 15 s is prompt.
    "expire-leases": {"task": "inbox.tasks.expire_leases", "schedule": 15.0},
    # Issue 15: Available agents gone offline stop taking work (presence expires after
    # PRESENCE_SECONDS, so 15 s adds little), and a lost assignment run is made up.
    "sweep-availability": {"task": "inbox.tasks.sweep_availability", "schedule": 15.0},
    # Replies whose task was lost (worker killed) or whose back-off/pause ended get posted;
    # 5 s bounds the extra delay after X's posting window resets.
    "sweep-outbox": {"task": "inbox.tasks.sweep_outbox", "schedule": 5.0},
    # Each Source has its own cadence (Source.poll_interval, default 15 s); this only
    # dispatches the ones that are due, so 5 s is the worst extra delay.
    "poll-due-sources": {"task": "inbox.tasks.poll_due_sources", "schedule": 5.0},
    # New Events join their brand's hash chain; a minute keeps the unsealed tail short
    # (what an intruder with SQL could still rewrite unseen) at one small batch a run.
    "seal-audit": {"task": "inbox.tasks.seal_audit", "schedule": 60.0},
    # Retention is counted in days: once a day is enough, and its batches stay short.
    "sweep-retention": {"task": "inbox.tasks.sweep_retention", "schedule": 86400.0},
    # X asks for its deletions to be honoured within 24 hours: a run of jobs a day, sent
    # every 12 h so one failed day still lands inside the window ...
    "start-x-compliance": {"task": "inbox.tasks.start_x_compliance", "schedule": 43200.0},
    # ... and its jobs checked every 5 minutes (X takes minutes to hours to finish one).
    "poll-x-compliance": {"task": "inbox.tasks.poll_x_compliance", "schedule": 300.0},
    # Webhook deliveries (rows written with their events) are drained by whichever worker
    # takes this; 2 s is the worst extra delay. An unstarted one expires: no pile-up.
    "deliver-webhooks": {
        "task": "inbox.tasks.deliver_webhooks",
        "schedule": 2.0,
        "options": {"expires": 2.0},
    },
}

# --- auth -----------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:queue"
LOGOUT_REDIRECT_URL = "login"

# --- security: production values unless DEBUG ------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Django's SecurityMiddleware sends Cross-Origin-Opener-Policy; said here, not by default:
# a page we open (a tweet on X) gets no handle on ours, nor ours on it.
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- i18n, static, mail, logging ---------------------------------------------------------

LANGUAGE_CODE = "en"
# Issue 21: the UI's words in English or Spanish (locale/es, `manage.py compilemessages`).
# An employee picks one on My profile (Agent.language); without a pick, the browser's
# Accept-Language chooses (LocaleMiddleware). Tweets and the brand's replies are never
# translated: they are the customer's and the brand's own words.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Files served at the site's root by WhiteNoise (/favicon.ico: browsers ask for it on
# every page whatever the <link rel=icon> says).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "twelp@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    # An expected 403/404 is one line, never a traceback (twelp.logfilters).
    "filters": {
        "expected": {"()": "twelp.logfilters.ExpectedErrors"},
        "beat_ticks": {"()": "twelp.logfilters.BeatTicks"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"filters": ["expected"]},
        # Celery's line per task received, per task succeeded and per beat tick: ~130 lines
        # a minute from an idle demo (polls and sweeps every 5 s). Failures and retries are
        # warnings and still show; our own modules log what a task did. Beat keeps its
        # other lines ("beat: Starting...", which tests and operators wait for).
        **{name: {"level": "WARNING"} for name in ("celery.app.trace", "celery.worker.strategy")},
        "celery.beat": {"filters": ["beat_ticks"]},
    },
}

# --- X API and its sandbox ---------------------------------------------------------------

# Where tweepy's requests go: X itself, or the bundled sandbox (e.g. http://127.0.0.1:8001).
X_API_BASE_URL = envstr("X_API_BASE_URL", "https://api.x.com").rstrip("/")
# Seconds before a call to X is given up (connect and read, each).
X_API_TIMEOUT = envint("X_API_TIMEOUT", 10, minimum=1)
# The app's credentials (developer portal). Not required to start: the gateway refuses to
# call X without them. In DEBUG they default to the sandbox's demo app and brand, which
# `manage.py xsandbox_seed` creates; they mean nothing to the real X.
_X_DEMO_CREDENTIALS = {
    "X_BEARER_TOKEN": "sandbox-demo-bearer-token",
    "X_CONSUMER_KEY": "sandbox-demo-consumer-key",
    "X_CONSUMER_SECRET": "sandbox-demo-consumer-secret",
    # X's access tokens start with the user's id; this one is the demo brand's.
    "X_ACCESS_TOKEN": "1600000000000000001-sandbox-demo-access-token",
    "X_ACCESS_TOKEN_SECRET": "sandbox-demo-access-token-secret",
}
X_BEARER_TOKEN = envstr("X_BEARER_TOKEN", _X_DEMO_CREDENTIALS["X_BEARER_TOKEN"] if DEBUG else "")
X_CONSUMER_KEY = envstr("X_CONSUMER_KEY", _X_DEMO_CREDENTIALS["X_CONSUMER_KEY"] if DEBUG else "")
X_CONSUMER_SECRET = envstr(
    "X_CONSUMER_SECRET", _X_DEMO_CREDENTIALS["X_CONSUMER_SECRET"] if DEBUG else ""
)
X_ACCESS_TOKEN = envstr("X_ACCESS_TOKEN", _X_DEMO_CREDENTIALS["X_ACCESS_TOKEN"] if DEBUG else "")
X_ACCESS_TOKEN_SECRET = envstr(
    "X_ACCESS_TOKEN_SECRET", _X_DEMO_CREDENTIALS["X_ACCESS_TOKEN_SECRET"] if DEBUG else ""
)

# The sandbox (twelp/xsandbox, its own process): where people reach its persona page, and
# the brand account it seeds.
XSANDBOX_URL = envstr("XSANDBOX_URL", "http://127.0.0.1:8001")
# Sign in with X (agents.xlink): the app's OAuth 2.0 client (developer portal, "User
# authentication settings"), whose callback is SITE_URL + /x/callback/. Registration and a
# change of handle go through it: the handle and X user id come from X. Unset: nobody can
# register themselves (admins still add employees). In DEBUG: the sandbox's demo client.
X_OAUTH2_CLIENT_ID = envstr("X_OAUTH2_CLIENT_ID", "sandbox-demo-oauth2-client" if DEBUG else "")
X_OAUTH2_CLIENT_SECRET = envstr(
    "X_OAUTH2_CLIENT_SECRET", "sandbox-demo-oauth2-secret" if DEBUG else ""
)
# X's consent page (the sandbox's in DEBUG).
X_OAUTH2_AUTHORIZE_URL = envstr(
    "X_OAUTH2_AUTHORIZE_URL",
    f"{XSANDBOX_URL}/i/oauth2/authorize" if DEBUG else "https://x.com/i/oauth2/authorize",
)
# The sandbox's registered OAuth 2.0 clients: a JSON list of {"client_id", "client_secret",
# "name", "redirect_uris": [...]}; empty: Twelp's own client above, calling back to SITE_URL.
XSANDBOX_OAUTH2_CLIENTS = envstr("XSANDBOX_OAUTH2_CLIENTS", "")
XSANDBOX_BRAND_USERNAME = envstr("XSANDBOX_BRAND_USERNAME", "twelpdemo")
XSANDBOX_BRAND_NAME = envstr("XSANDBOX_BRAND_NAME", "Twelp Demo")
# Training mode (inbox/training.py): trainees answer simulated customers as a training
# brand account that lives only in the sandbox. Its calls go to X_TRAINING_API_BASE_URL (never
# X itself) with this account's token, so nothing a trainee sends reaches the live account.
# The token means nothing to the real X; the sandbox seeds the account from it.
X_TRAINING_API_BASE_URL = envstr("X_TRAINING_API_BASE_URL", XSANDBOX_URL).rstrip("/")
XSANDBOX_TRAINING_USERNAME = envstr("XSANDBOX_TRAINING_USERNAME", "twelpdemo_train")
X_TRAINING_ACCESS_TOKEN = envstr(
    "X_TRAINING_ACCESS_TOKEN", "1600000000000000002-sandbox-training-access-token"
)
X_TRAINING_ACCESS_TOKEN_SECRET = envstr(
    "X_TRAINING_ACCESS_TOKEN_SECRET", "sandbox-training-access-token-secret"
)
# Keys the sandbox's /_sandbox/ control API (faults, posted tweets, rate-limit windows, and
# training mode's practice customers, which Twelp asks for at X_TRAINING_API_BASE_URL with
# this token); unset switches it off. The sandbox and Twelp must share the value.
XSANDBOX_ADMIN_TOKEN = envstr("XSANDBOX_ADMIN_TOKEN", "sandbox-demo-admin-token" if DEBUG else "")
# X's published limits, {endpoint: {scope: (requests, window seconds)}}: "app" counts
# app-only (Bearer) calls per app, "user" OAuth 1.0a calls per user, "*_24h" every call.
XSANDBOX_RATE_LIMITS_ENABLED = envbool("XSANDBOX_RATE_LIMITS_ENABLED", True)
XSANDBOX_RATE_LIMITS: dict[str, dict[str, tuple[int, int]]] = {
    "mentions": {"app": (450, 900), "user": (300, 900)},
    "search": {"app": (450, 900), "user": (300, 900)},
    "user_tweets": {"app": (1500, 900), "user": (900, 900)},
    "create_tweet": {"user": (100, 900), "app_24h": (10_000, 86_400)},
    "tweet_lookup": {"app": (450, 900), "user": (900, 900)},
    "users_me": {"user": (75, 900)},
    "user_lookup": {"app": (300, 900), "user": (900, 900)},
    # DM reads: 15 per 15 minutes per user, each of the two lookups its own endpoint.
    "dm_events": {"user": (15, 900)},
    "dm_conversation_events": {"user": (15, 900)},
    # DM sends: a budget apart from posts, 15 per 15 minutes and 1,440 per 24 hours.
    "dm_send": {"user": (15, 900), "user_24h": (1440, 86_400)},
}
# Consumer keys of apps with X's Enterprise access: exempt from the summoned-reply rule
# (since 23 Feb 2026 a self-serve app may reply only to a post whose author mentioned or
# quoted the replying account) [none].
XSANDBOX_ENTERPRISE_APPS = envlist("XSANDBOX_ENTERPRISE_APPS", [])
# X's pay-per-use prices per call, in US dollars (inbox.rules.cost): a post [0.015], a post
# containing a URL [0.20], a summoned reply [0.01], a DM [0.015]. Shown while an agent
# types; the dashboard adds them up per account.
X_PRICE_POST = envdecimal("X_PRICE_POST", "0.015")
X_PRICE_POST_URL = envdecimal("X_PRICE_POST_URL", "0.20")
X_PRICE_SUMMONED_REPLY = envdecimal("X_PRICE_SUMMONED_REPLY", "0.01")
X_PRICE_DM = envdecimal("X_PRICE_DM", "0.015")
# Faults for every call this process serves: a JSON list of fault specs (see
# twelp/xsandbox/faults.py), e.g. [{"kind": "unavailable", "probability": 0.05}].
XSANDBOX_FAULTS = envstr("XSANDBOX_FAULTS", "")

# --- the queue and the outbox ---

# Seconds a claim lasts without renewal (the thread page renews it while its agent is
# active on it: a key, a click, a scroll since the last renewal; an idle tab lets it go).
CLAIM_LEASE_SECONDS = envint("CLAIM_LEASE_SECONDS", 300, minimum=30)
# How often the thread page renews its claim, if its agent was active meanwhile.
CLAIM_RENEW_SECONDS = envint("CLAIM_RENEW_SECONDS", 60, minimum=1)
# Seconds a reopened thread waits for the agent who answered before anyone may take it.
REOPEN_OFFER_SECONDS = envint("REOPEN_OFFER_SECONDS", 300, minimum=0)
# A reply still queued/sending this many seconds after its last attempt is re-enqueued.
OUTBOX_STUCK_SECONDS = envint("OUTBOX_STUCK_SECONDS", 60, minimum=5)
# Attempts at posting one reply before it is marked failed (transient errors only).
POST_REPLY_MAX_ATTEMPTS = envint("POST_REPLY_MAX_ATTEMPTS", 8, minimum=1)
# Outbound webhooks (inbox.outbox.webhooks). Private/loopback targets and plain http only
# where DEBUG is on (tests, the demo), unless said otherwise: never in production (SSRF).
WEBHOOK_ALLOW_PRIVATE = envbool("WEBHOOK_ALLOW_PRIVATE", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
WEBHOOK_MAX_ATTEMPTS = envint("WEBHOOK_MAX_ATTEMPTS", 20, minimum=1)
WEBHOOK_BACKOFF_SECONDS = envint("WEBHOOK_BACKOFF_SECONDS", 10, minimum=1)
# Satisfaction after close (inbox.quality.survey): how long a survey link works, and the
# least time between two surveys to one customer.
SURVEY_LINK_DAYS = envint("SURVEY_LINK_DAYS", 7, minimum=1)
# Issue 20: surveys never take a DM an answer needs: none is queued unless the day's DM
# budget has more than this many calls left beyond the DMs already waiting (of X's 1,440).
SURVEY_DM_RESERVE = envint("SURVEY_DM_RESERVE", 100, minimum=0)
WEBHOOK_PAUSE_AFTER_HOURS = envint("WEBHOOK_PAUSE_AFTER_HOURS", 24, minimum=1)

# --- customer data duties (inbox.data) ------------------------------------------------------

# Defaults of each brand's retention (a brand may set its own: Brand.retain_*), in days:
# closed threads' messages and notes, X's raw payloads, quarantined payloads.
RETENTION_DEFAULT_DAYS = {
    "closed_threads": envint("RETENTION_CLOSED_THREAD_DAYS", 365, minimum=1),
    "raw_payloads": envint("RETENTION_RAW_PAYLOAD_DAYS", 30, minimum=1),
    "quarantine": envint("RETENTION_QUARANTINE_DAYS", 30, minimum=1),
}
# Rows per batch of the sweep (one short transaction each: the longest lock it holds).
# Each batch's WAL must be flushed before any later commit (claim next's included):
# small batches keep that flush short (BENCHMARKS.md, issue 19).
RETENTION_BATCH = envint("RETENTION_BATCH", 50, minimum=1)
# After each batch of the sweep and of X's compliance apply, rest this percentage of the
# batch's time (at most 2 s): at 3000 they take a thirtieth of the database's time (and
# WAL bandwidth) from the agents; at 900 claim next's p95 still moved 1.5-1.7x during the
# sweep (BENCHMARKS.md, issue 19).
DATA_DUTIES_REST_PERCENT = envint("DATA_DUTIES_REST_PERCENT", 3000, minimum=0)
# Those batches commit with synchronous_commit off unless this is true: an agent's commit
# then does not wait behind the batch's own WAL flush. Safe: a crash loses at most the
# last batches of deletions (undone whole), which the next run redoes (inbox.data.retention).
DATA_DUTIES_SYNC_COMMIT = envbool("DATA_DUTIES_SYNC_COMMIT", False)
# X's batch compliance: ids per job (X accepts up to 5 million per file), and how many
# times a failed job is created again before the run gives up until the next day.
X_COMPLIANCE_IDS_PER_JOB = envint("X_COMPLIANCE_IDS_PER_JOB", 1_000_000, minimum=1)
X_COMPLIANCE_MAX_ATTEMPTS = envint("X_COMPLIANCE_MAX_ATTEMPTS", 3, minimum=1)

# --- employees and login throttling ---------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out login before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, reading the Agent and Brand with the User (one query per request).
    "agents.backends.EmployeeBackend",
]
# Failed logins before a lockout, and how long the lockout lasts.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15, minimum=1))
# Per username *and* address: hundreds of employees share an office's one NAT address, so
# a lockout by address alone would lock out a whole floor after one person's typos.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# Two-factor (agents.twofactor): the roles that must enrol a TOTP app and pass it at every
# login [supervisor,admin]; agents may enrol (then they must pass it too). Empty: no role
# must, which only an operator who knows why should choose.
TWO_FACTOR_REQUIRED_ROLES = envlist("TWO_FACTOR_REQUIRED_ROLES", ["supervisor", "admin"])
if not set(TWO_FACTOR_REQUIRED_ROLES) <= {"agent", "supervisor", "admin"}:
    raise ImproperlyConfigured(
        f"TWO_FACTOR_REQUIRED_ROLES={TWO_FACTOR_REQUIRED_ROLES}: use agent, supervisor, admin."
    )
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = envstr("OTP_TOTP_ISSUER", "Twelp")
# Security keys and passkeys (django-otp-webauthn, agents.twofactor): the relying party is
# the site's host name (a key works for that name and its subdomains), the allowed origins
# the site's own. Browsers refuse WebAuthn on an IP address and over plain http but for
# localhost: a SITE_URL like http://127.0.0.1:8000 (the default) gets localhost, same port.
# Keys are a second factor only: the first is still a password or the company sign-in.
_site = urlsplit(SITE_URL)
_key_host = _site.hostname if _site.scheme == "https" else "localhost"
_key_origin = f"{_site.scheme}://{_key_host}" + (f":{_site.port}" if _site.port else "")
OTP_WEBAUTHN_RP_ID = envstr("WEBAUTHN_RP_ID", _key_host or "localhost")
OTP_WEBAUTHN_RP_NAME = envstr("WEBAUTHN_RP_NAME", "Twelp")
OTP_WEBAUTHN_ALLOWED_ORIGINS = envlist("WEBAUTHN_ALLOWED_ORIGINS", [_key_origin])
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# Password-reset links (and the "set your password" link a new employee gets) expire.
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600, minimum=600)

# --- single sign-on: OpenID Connect through mozilla-django-oidc (agents.sso) ---------------

# The company's identity provider: its issuer (the `iss` every id_token must carry). Unset:
# no single sign-on. With DEBUG it defaults to the X sandbox's stand-in provider.
OIDC_OP_ISSUER = envstr("OIDC_OP_ISSUER", f"{XSANDBOX_URL}/oidc" if DEBUG else "").rstrip("/")
SSO_ENABLED = bool(OIDC_OP_ISSUER)
# Its endpoints, from its discovery document (ISSUER/.well-known/openid-configuration);
# with DEBUG they default to the sandbox provider's, under the issuer.
_OIDC_DEFAULT = OIDC_OP_ISSUER if DEBUG else ""
OIDC_OP_AUTHORIZATION_ENDPOINT = envstr(
    "OIDC_OP_AUTHORIZATION_ENDPOINT", _OIDC_DEFAULT and f"{_OIDC_DEFAULT}/authorize"
)
OIDC_OP_TOKEN_ENDPOINT = envstr(
    "OIDC_OP_TOKEN_ENDPOINT", _OIDC_DEFAULT and f"{_OIDC_DEFAULT}/token"
)
OIDC_OP_USER_ENDPOINT = envstr(
    "OIDC_OP_USER_ENDPOINT", _OIDC_DEFAULT and f"{_OIDC_DEFAULT}/userinfo"
)
OIDC_OP_JWKS_ENDPOINT = envstr("OIDC_OP_JWKS_ENDPOINT", _OIDC_DEFAULT and f"{_OIDC_DEFAULT}/jwks")
# RP-initiated logout (agents.sso (6)): the provider's end_session_endpoint. Set, signing out
# of Twelp ends the provider's session too; empty, only Twelp's ends.
OIDC_OP_LOGOUT_ENDPOINT = envstr(
    "OIDC_OP_LOGOUT_ENDPOINT", _OIDC_DEFAULT and f"{_OIDC_DEFAULT}/end_session"
)
# Twelp's client at the provider (a confidential client; the redirect URI to register is
# SITE_URL/oidc/callback/).
OIDC_RP_CLIENT_ID = envstr("OIDC_RP_CLIENT_ID", "twelp-demo-oidc" if DEBUG else "")
OIDC_RP_CLIENT_SECRET = envstr("OIDC_RP_CLIENT_SECRET", "sandbox-demo-oidc-secret" if DEBUG else "")
if SSO_ENABLED:
    _missing = [
        name
        for name in (
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
            "OIDC_RP_CLIENT_ID",
            "OIDC_RP_CLIENT_SECRET",
        )
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured(f"OIDC_OP_ISSUER is set: also set {', '.join(_missing)}.")
# Scopes asked for ["openid email profile"]; add offline_access where the provider gives
# refresh tokens only then (Okta, Entra ID).
OIDC_RP_SCOPES = envstr("OIDC_RP_SCOPES", "openid email profile")
# id_tokens must be RS256-signed by a key of the provider's JWKS (never HS256 or "none").
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_TIMEOUT = envint("OIDC_TIMEOUT", 10, minimum=1)
LOGIN_REDIRECT_URL_FAILURE = "login"
# The name on the login page's button ["your company account"].
OIDC_PROVIDER_NAME = envstr("OIDC_PROVIDER_NAME", "your company account")
# The claim in which the provider vouches for the employee id ["employee_id"]; an existing
# employee with that id is linked at their first sign-in. Empty: no such claim.
OIDC_EMPLOYEE_ID_CLAIM = envstr("OIDC_EMPLOYEE_ID_CLAIM", "employee_id")
# A first sign-in with that claim makes an active agent at once (no supervisor approval);
# off [false]: a pending registration, as with a password.
OIDC_ACTIVATE_VOUCHED = envbool("OIDC_ACTIVATE_VOUCHED", False)
# Supervisors and admins still pass Twelp's second factor after single sign-on, unless
# this is on and the id_token's `amr` has one of OIDC_MFA_AMR_VALUES [false; mfa].
OIDC_MFA_COUNTS = envbool("OIDC_MFA_COUNTS", False)
OIDC_MFA_AMR_VALUES = envlist("OIDC_MFA_AMR_VALUES", ["mfa"])
# Seconds between two checks that the provider still knows a signed-in employee (userinfo,
# then a refresh): a disabled account stops working at its first request after this [60];
# 0 checks at every request (one call to the provider each).
OIDC_RECHECK_SECONDS = envint("OIDC_RECHECK_SECONDS", 60, minimum=0)
# Password sign-in beside single sign-on [true]. Off: the login page offers only the
# provider (password reset links still set a password, but it no longer logs in).
PASSWORD_LOGIN = envbool("PASSWORD_LOGIN", True)
if not PASSWORD_LOGIN and not SSO_ENABLED:
    raise ImproperlyConfigured("PASSWORD_LOGIN=false needs single sign-on (OIDC_OP_ISSUER).")
# The sandbox's provider: its directory (a JSON list of {sub, name, email, employee_id,
# disabled}; default: the demo's people) and clients (JSON {client_id, client_secret,
# redirect_uris}; default: Twelp's, calling back to SITE_URL).
XSANDBOX_OIDC_USERS = envstr("XSANDBOX_OIDC_USERS", "")
XSANDBOX_OIDC_CLIENTS = envstr("XSANDBOX_OIDC_CLIENTS", "")
if SSO_ENABLED:  # the provider's sign-in (agents.sso); sessions it starts load through it
    AUTHENTICATION_BACKENDS.append("agents.sso.SSOBackend")

# --- supervision ---

# Percent of the first-response target after which a waiting thread is "nearing" it [75].
SLA_WARN_PERCENT = envint("SLA_WARN_PERCENT", 75, minimum=1)
# Seconds an agent counts as online after their last request; the thread page renews
# every 60 s, so keep it above that [90].
PRESENCE_SECONDS = envint("PRESENCE_SECONDS", 90, minimum=10)
# "Jane is viewing": seconds a thread counts as open after its page last asked (it asks
# every 2 s) [10]; "Jane is typing…": seconds after her last keystroke ping [5].
VIEWING_SECONDS = envint("VIEWING_SECONDS", 10, minimum=3)
TYPING_SECONDS = envint("TYPING_SECONDS", 5, minimum=2)
# Per-employee limits of the expensive endpoints, requests a minute (inbox.views.throttle; past
# one: 429 and Retry-After; 0: no limit). The pages stay well below them: the reply check
# runs as the agent pauses typing [120]; the viewers polls come every 2 s from each open
# queue or thread page, so 150 leaves room for five tabs [150]; typing pings at most one
# per 2 s per reply box [60]; the audit CSV export [10]; searches, "More" included [60].
THROTTLE_REPLY_CHECK_PER_MINUTE = envint("THROTTLE_REPLY_CHECK_PER_MINUTE", 120, minimum=0)
THROTTLE_VIEWERS_PER_MINUTE = envint("THROTTLE_VIEWERS_PER_MINUTE", 150, minimum=0)
THROTTLE_TYPING_PER_MINUTE = envint("THROTTLE_TYPING_PER_MINUTE", 60, minimum=0)
THROTTLE_AUDIT_CSV_PER_MINUTE = envint("THROTTLE_AUDIT_CSV_PER_MINUTE", 10, minimum=0)
# An admin's exports of one customer's data (each reads all of it) [10].
THROTTLE_CUSTOMER_EXPORT_PER_MINUTE = envint("THROTTLE_CUSTOMER_EXPORT_PER_MINUTE", 10, minimum=0)
THROTTLE_API_PER_MINUTE = envint("THROTTLE_API_PER_MINUTE", 600, minimum=0)
THROTTLE_SEARCH_PER_MINUTE = envint("THROTTLE_SEARCH_PER_MINUTE", 60, minimum=0)
# Posting as the brand (issue 22): an employee's send, send & close, move to DM and DM
# sends together, a minute [10]. A person answers far fewer; a script in a hijacked session
# (an XSS past the escaping and the CSP) would tweet as the brand at machine speed.
THROTTLE_POSTS_PER_MINUTE = envint("THROTTLE_POSTS_PER_MINUTE", 10, minimum=0)
# Seconds between live refreshes of the supervisors' dashboard [5].
DASHBOARD_REFRESH_SECONDS = envint("DASHBOARD_REFRESH_SECONDS", 5, minimum=1)
# Hours of per-minute rollups kept (the "last hour" figures need one) [48].
ROLLUP_MINUTES_KEEP_HOURS = envint("ROLLUP_MINUTES_KEEP_HOURS", 48, minimum=2)
# Bearer token for /metrics (Prometheus); unset: /metrics answers 404.
METRICS_TOKEN = envstr("METRICS_TOKEN", "")
# --- push (inbox.views.push, served by `uvicorn twelp.asgi:application`) ---

# Where pages open their event stream: a path on the same origin (a load balancer routes
# /push/ to the push processes), or an absolute URL (the demo: http://127.0.0.1:8002/push/).
PUSH_URL = envstr("PUSH_URL", "/push/")
# Origins whose pages may open a stream with their cookies when PUSH_URL is absolute (CORS).
PUSH_ALLOWED_ORIGINS = envlist("PUSH_ALLOWED_ORIGINS", [])
# Threads (and so database connections) a push process renders and checks with [4]; 0 runs
# that work in Django's sync thread instead (the test suite's in-process client).
PUSH_DB_THREADS = envint("PUSH_DB_THREADS", 4, minimum=0)
TEMPLATES[0]["OPTIONS"]["context_processors"].append("twelp.context_processors.push")
# Issue 21: the top bar's unread notifications (read only when a page shows them).
TEMPLATES[0]["OPTIONS"]["context_processors"].append("twelp.context_processors.notices")

# Presence: the agent's own requests mark them online (inbox.live.presence).
MIDDLEWARE.insert(
    MIDDLEWARE.index("axes.middleware.AxesMiddleware"), "inbox.live.presence.middleware"
)
# Outermost: claim next's queue-version bump (inbox.live.version.publish) has been run by
# Redis before its response leaves, so a page read after it sees the change.
MIDDLEWARE.insert(0, "inbox.live.version.middleware")
# Folds the rollups' delta rows; readers sum deltas too, so this bounds their work, not
# their freshness: 10 s keeps a read at a few hundred rows at 50 transitions a second.
CELERY_BEAT_SCHEDULE["compact-rollups"] = {
    "task": "inbox.rollups.compact_rollups",
    "schedule": 10.0,
}

# --- Content-Security-Policy (django-csp) ---------------------------------------------------

# Every page shows text written by strangers, and every employee's session can post as the
# brand: if escaping ever fails, the browser still runs no script but ours. Scripts and
# styles only from our own static files (no inline code, no eval: htmx is configured for
# that in base.html), images from us and X's media host (X_MEDIA_ORIGINS), connections
# to us and the push process, no framing, forms only to us. The X sandbox sends its own policy
# (twelp/xsandbox/conf.py). Violations are reported to /csp-report/ (twelp.security).
# Images in tweets and DMs are loaded by the browser straight from X's media host, never
# through Twelp (inbox.rules.media renders no other URL). With DEBUG (the demo, tests), the
# sandbox serves its customers' images from its own origin, as X does from pbs.twimg.com.
X_MEDIA_ORIGINS = ["https://pbs.twimg.com"]
if DEBUG:
    for _url in (XSANDBOX_URL, X_TRAINING_API_BASE_URL):
        _parts = urlsplit(_url)
        if _parts.scheme in ("http", "https") and _parts.netloc:
            _origin = f"{_parts.scheme}://{_parts.netloc}"
            if _origin not in X_MEDIA_ORIGINS:
                X_MEDIA_ORIGINS.append(_origin)
_push = urlsplit(PUSH_URL)
_PUSH_ORIGIN = f"{_push.scheme}://{_push.netloc}" if _push.netloc else ""  # absolute: the demo
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *X_MEDIA_ORIGINS],
        "connect-src": [SELF, *([_PUSH_ORIGIN] if _PUSH_ORIGIN else [])],
        "frame-ancestors": [NONE],
        # Pages of a session the provider started add its end_session's origin (sign-out's
        # form redirects there, and browsers hold a form's redirects to it: agents.sso (6)).
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
        "report-uri": ["/csp-report/"],
    }
}
# Features no page of Twelp uses, refused to every frame (twelp.security.browser_policies).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

# --- Several brand accounts (issue 16: inbox.configure.credentials, twelp.sealing) ------
# Fernet keys (comma-separated) that seal each brand's X credentials in the database: the
# first seals, all open (rotation: put a new key first, run `manage.py
# rotate_credentials_key`, then drop the old one). Required outside DEBUG once a brand is
# connected in the app; in DEBUG it defaults to a key derived from SECRET_KEY.
TWELP_CREDENTIALS_KEYS = envlist("TWELP_CREDENTIALS_KEYS", [])
if not TWELP_CREDENTIALS_KEYS and DEBUG:
    from twelp.sealing import dev_key

    TWELP_CREDENTIALS_KEYS = [dev_key(SECRET_KEY)]
# The X_CONSUMER_*/X_ACCESS_* credentials above are the env brand's: the brand with this
# handle (without @), or, empty, the oldest brand that is not a training brand. Any other
# brand posts only with credentials an admin connected for it (Admin -> X account).
X_ENV_BRAND = envstr("X_ENV_BRAND", "").lstrip("@")
# OAuth 2.0 scopes asked when an admin connects a brand account: reading and posting
# tweets and DMs, and offline.access for a refresh token (X's access tokens last 2 hours).
X_BRAND_OAUTH2_SCOPES = (
    "tweet.read", "tweet.write", "users.read", "dm.read", "dm.write", "offline.access",
)  # fmt: skip
