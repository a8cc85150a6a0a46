"""Preflight settings. Every value comes from the environment with a safe default.

Nothing set: SQLite file next to the project and Celery running tasks eagerly in
process, which is what `make run` needs on a machine with nothing but Python.
Production and CI set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
"""

import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core.env import (
    env_bool,
    env_cache_url,
    env_float,
    env_hours_list,
    env_int,
    env_list,
    env_map,
    env_rate,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
TESTING = "pytest" in sys.modules

DEBUG = env_bool("DEBUG", default=False)
# Production unless developing (DEBUG=1, `make run`) or under pytest: the https-only
# settings below default on in production and off where plain http must work.
PRODUCTION = not (DEBUG or TESTING)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random value (DEBUG=1 uses a throwaway key)."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and Redoc from our own static files: the docs work offline.
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "training",
    "courses",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the URL or the cookies (training.middleware).
    "training.middleware.NulCharacterMiddleware",
    # Serves our CSS and scripts from gunicorn too (collectstatic, hashed names).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in engineer's pages in the language of their profile.
    "training.i18n.EngineerLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "training.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during sign-in into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "training.urls"
WSGI_APPLICATION = "training.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'preflight.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0, maximum=3600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: wait for the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DATABASE_CONNECT_TIMEOUT", 5, minimum=1, maximum=60
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Sign-in throttling (django-axes): after PREFLIGHT_LOGIN_FAILURE_LIMIT failed
# sign-ins of one username from one address, that pair is refused (429) for the
# cool-off. Keyed on the pair, not the address alone: behind a proxy every person
# shares an address, and one mistyping colleague must not lock out the office.
# The attempts are rows (AccessAttempt, in the admin), shared by every web process.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("PREFLIGHT_LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(
    minutes=env_int("PREFLIGHT_LOGIN_COOLOFF_MINUTES", 15, minimum=1, maximum=24 * 60)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "training/auth/locked.html"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Single sign-on: OpenID Connect (mozilla-django-oidc, see training/oidc.py) ----
# On when a client id and the provider (OIDC_ISSUER, whose endpoints are discovered
# at the first sign-in, or the endpoint URLs) are set. People are created at their
# first sign-in; their groups map to teams, leads and support managers.
OIDC_ISSUER = env_url("OIDC_ISSUER")
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGO", "RS256")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_url("OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_url("OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_url("OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_url("OIDC_JWKS_ENDPOINT")
OIDC_OP_LOGOUT_ENDPOINT = env_url("OIDC_END_SESSION_ENDPOINT")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "your company account")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
# Provider group → team slug: members are engineers of that team.
OIDC_TEAM_MAP = env_map("OIDC_TEAM_MAP")
# Provider group → team slug: members lead that team.
OIDC_LEAD_MAP = env_map("OIDC_LEAD_MAP")
# Provider groups whose members are support managers.
OIDC_MANAGER_GROUPS = env_list("OIDC_MANAGER_GROUPS", [])
OIDC_TIMEOUT = env_float("OIDC_TIMEOUT", 10, minimum=1, maximum=60)
OIDC_STORE_ID_TOKEN = True  # for the provider's sign-out (id_token_hint)
OIDC_USE_PKCE = True
LOGIN_REDIRECT_URL_FAILURE = "login"
if OIDC_RP_CLIENT_ID and not (
    OIDC_ISSUER
    or (OIDC_OP_AUTHORIZATION_ENDPOINT and OIDC_OP_TOKEN_ENDPOINT and OIDC_OP_JWKS_ENDPOINT)
):
    raise ImproperlyConfigured(
        "OIDC_CLIENT_ID is set but not the provider: set OIDC_ISSUER, or "
        "OIDC_AUTHORIZATION_ENDPOINT, OIDC_TOKEN_ENDPOINT and OIDC_JWKS_ENDPOINT."
    )
# Local passwords (the demo's sign-in). 0: only the identity provider signs people in.
PREFLIGHT_PASSWORD_LOGIN = env_bool("PREFLIGHT_PASSWORD_LOGIN", default=True)
if not PREFLIGHT_PASSWORD_LOGIN and not OIDC_RP_CLIENT_ID:
    raise ImproperlyConfigured(
        "PREFLIGHT_PASSWORD_LOGIN=0 needs OpenID Connect (OIDC_CLIENT_ID, OIDC_ISSUER): "
        "otherwise nobody could sign in."
    )
AUTHENTICATION_BACKENDS.append("training.oidc.Backend")
if not PREFLIGHT_PASSWORD_LOGIN:
    AUTHENTICATION_BACKENDS.remove("django.contrib.auth.backends.ModelBackend")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Preflight <preflight@localhost>")

# --- Transport and browser security ---------------------------------------------
# Production is https only (`manage.py check --deploy` passes with these defaults);
# DEBUG=1 and the tests keep plain http. Behind a proxy that terminates TLS, set
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https so Django knows the request
# was https (only if the proxy overwrites that header).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
# Load balancers probe over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int(
    "SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0, maximum=63_072_000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
# Preloading commits the whole domain to https in browsers for months: the owner of
# the domain decides it, so it is off unless asked for, and Django's reminder
# (security.W021) is silenced while it is.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The covering indexes' INCLUDE columns are PostgreSQL's; on the demo's SQLite
    # they are plain indexes, which every command would otherwise warn about.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
_proxy_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_header:
    if len(_proxy_header) != 2 or not _proxy_header[0].startswith("HTTP_"):
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER must be HEADER,VALUE like HTTP_X_FORWARDED_PROTO,https."
        )
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_header)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

_OIDC_ORIGINS = sorted(
    {"{}://{}".format(*urlsplit(url)[:2]) for url in (OIDC_ISSUER, OIDC_OP_LOGOUT_ENDPOINT) if url}
)
# Content-Security-Policy (django-csp): our pages load only our own static files.
# htmx needs no eval (no hx-on attributes, no `js:` values) and injects no styles
# (includeIndicatorStyles is off in base.html). The API docs pages widen it for the
# inline styles Swagger UI and Redoc need (training.urls).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # Signing out may continue at the identity provider (RP-initiated logout).
        "form-action": [SELF, *_OIDC_ORIGINS],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Cache ------------------------------------------------------------------------
# Holds the API rate-limit counters. Several web processes must share it, so
# production points CACHE_URL (or REDIS_URL) at Redis; unset, each process has its
# own memory cache, which is right for one process (`make run`, tests).
CACHE_URL = env_cache_url("CACHE_URL") or env_cache_url("REDIS_URL")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "preflight",
            # Fail fast: the rate limiter serves the request when the cache is down.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST API ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "training.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # OPTIONS is not part of API v1: 405, instead of DRF's form metadata (which
    # looks objects up, and cannot for views that find them by natural key).
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's, with a nesting limit: a deeply nested body is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": ["training.api.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    # Per token, per signed-in person, per address (training.api.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["training.api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api": env_rate("PREFLIGHT_API_RATE", "600/min"),
        "api_anon": env_rate("PREFLIGHT_API_ANON_RATE", "60/min"),
        # A scope with its own rate (PREFLIGHT_API_RATE_PEOPLE=…) has its own budget
        # per client; the others share `api`.
        **{
            f"api_{scope}": env_rate(f"PREFLIGHT_API_RATE_{scope.upper()}", "")
            for scope in ("releases", "catalog", "people", "assignments")
            if env_rate(f"PREFLIGHT_API_RATE_{scope.upper()}", "")
        },
    },
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Preflight API",
    "DESCRIPTION": "Release pipelines, HR sync and course publishing talk to Preflight here.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Served from our static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # 401, 403, 404, 429, 503 …: the answers of the one error path, on every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "training.api.schema.add_error_responses",
    ],
    # Path parameters say what their converter matches (`<slug:…>`).
    "PATH_CONVERTER_OVERRIDES": {
        "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    },
    # Three models have a `status` with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "ReleaseStatusEnum": "courses.models.Release.Status",
        "CourseStatusEnum": "courses.models.Course.Status",
        "AssignmentStatusEnum": "training.models.Assignment.Status",
        "FeatureKindEnum": "courses.models.Feature.Kind",
        "QuestionKindEnum": "courses.models.Question.Kind",
    },
}

# --- Celery --------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_RESULT_EXPIRES = None  # no results are kept, so beat needs no cleanup entry
# Tasks without a route go here; a worker consumes it with -Q (tests use their own).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600, minimum=10, maximum=3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 5
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The longest a task waits before a retry (the webhook's backoff cap; other tasks
# back off at most 300 s). With Redis a retry is a message the worker holds
# unacknowledged until its countdown ends, so it must stay below the visibility
# timeout or Redis hands it to a second worker too.
PREFLIGHT_MAX_RETRY_COUNTDOWN = 900
# A killed worker's unacknowledged task is redelivered only after the visibility
# timeout. It must exceed the longest task (time limit) and every retry countdown,
# or a task still running or waiting is run twice; so it cannot be short, and a
# lost fan-out is recovered sooner by the reconcile task than by redelivery: every
# worker queues one each time it connects to the broker, at start and after an
# outage (training.celery), and beat runs it every PREFLIGHT_RECONCILE_SECONDS.
CELERY_VISIBILITY_TIMEOUT = env_int(
    "CELERY_VISIBILITY_TIMEOUT",
    1800,
    minimum=max(CELERY_TASK_TIME_LIMIT, PREFLIGHT_MAX_RETRY_COUNTDOWN) + 60,
    maximum=86400,
)
PREFLIGHT_RECONCILE_ON_CONNECT = env_bool("PREFLIGHT_RECONCILE_ON_CONNECT", default=True)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # Fail fast when the broker is down so a request is never held hostage by it.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}

# --- Preflight policy --------------------------------------------------------
PREFLIGHT_DUE_LEAD_HOURS = env_float("PREFLIGHT_DUE_LEAD_HOURS", 48, minimum=0, maximum=24 * 90)
PREFLIGHT_DUE_LEAD = timedelta(hours=PREFLIGHT_DUE_LEAD_HOURS)
PREFLIGHT_MIN_COMPLETION = env_float("PREFLIGHT_MIN_COMPLETION", 0.9, minimum=0, maximum=1)
PREFLIGHT_MIN_COMPLETE_PER_REGION = env_int(
    "PREFLIGHT_MIN_COMPLETE_PER_REGION", 1, minimum=0, maximum=10_000
)
PREFLIGHT_SKILL_VALID_DAYS = env_int("PREFLIGHT_SKILL_VALID_DAYS", 365, minimum=1, maximum=3650)
# A release not yet ready whose training is due within this many hours is at risk
# (training.readiness.policy: one rule for the console, the API, mail and webhooks).
PREFLIGHT_AT_RISK_HOURS = env_int("PREFLIGHT_AT_RISK_HOURS", 72, minimum=0, maximum=24 * 90)
# How many days before a skill record expires the courses that recertify its skill
# are assigned (training.services.recertification), due at the expiry; 0 assigns
# none. Shorter than the validity, or a record renewed today would be due again.
PREFLIGHT_RECERTIFY_DAYS = env_int(
    "PREFLIGHT_RECERTIFY_DAYS",
    min(30, PREFLIGHT_SKILL_VALID_DAYS - 1),
    minimum=0,
    maximum=PREFLIGHT_SKILL_VALID_DAYS - 1,
)
# Readiness counts are kept between reads and recounted after any write that changes
# them (training.models.ReadinessSnapshot); this bounds how long one made outside the
# services (a user deleted in the admin, a manual SQL fix) can go unseen.
PREFLIGHT_READINESS_MAX_AGE_SECONDS = env_int(
    "PREFLIGHT_READINESS_MAX_AGE_SECONDS", 300, minimum=0, maximum=86400
)
# Follow-the-sun coverage (training.readiness.coverage): the launch window is this
# many hours from the customer date; with a minimum set, every hour of it needs that
# many ready engineers (and experts) on shift or readiness adds `coverage_gap` and
# the gate refuses. 0 = that rule is off (the heat map still marks hours nobody
# ready is on shift).
PREFLIGHT_COVERAGE_HOURS = env_int("PREFLIGHT_COVERAGE_HOURS", 72, minimum=1, maximum=24 * 14)
PREFLIGHT_MIN_READY_ON_SHIFT = env_int(
    "PREFLIGHT_MIN_READY_ON_SHIFT", 0, minimum=0, maximum=100_000
)
PREFLIGHT_MIN_EXPERTS_ON_SHIFT = env_int(
    "PREFLIGHT_MIN_EXPERTS_ON_SHIFT", 0, minimum=0, maximum=100_000
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failed sign-ins and lockouts are warnings; every successful one is noise.
        "axes": {"level": "WARNING"},
    },
}
PREFLIGHT_ONBOARDING_DAYS = env_int("PREFLIGHT_ONBOARDING_DAYS", 14, minimum=1, maximum=365)
PREFLIGHT_EXEMPT_LEVEL = env_int("PREFLIGHT_EXEMPT_LEVEL", 3, minimum=1, maximum=4)
PREFLIGHT_REMINDER_HOURS = env_hours_list("PREFLIGHT_REMINDER_HOURS", [72, 24])
# Seconds one webhook attempt may take (connect and answer); a slower receiver is a
# failed attempt. The task's time limit (60 s) stays above it.
PREFLIGHT_WEBHOOK_TIMEOUT = env_float("PREFLIGHT_WEBHOOK_TIMEOUT", 10, minimum=0.1, maximum=50)
# Retries after a failed first attempt, then the delivery is `failed`; each waits
# twice the one before, from the backoff, capped at PREFLIGHT_MAX_RETRY_COUNTDOWN.
PREFLIGHT_WEBHOOK_RETRIES = env_int("PREFLIGHT_WEBHOOK_RETRIES", 8, minimum=0, maximum=20)
PREFLIGHT_WEBHOOK_BACKOFF_SECONDS = env_int(
    "PREFLIGHT_WEBHOOK_BACKOFF_SECONDS", 30, minimum=1, maximum=PREFLIGHT_MAX_RETRY_COUNTDOWN
)
PREFLIGHT_SITE_URL = env_str("PREFLIGHT_SITE_URL", "http://127.0.0.1:8000")

# The whole beat schedule, in one place. Every task is safe to run twice.
CELERY_BEAT_SCHEDULE = {
    "reconcile": {
        "task": "training.tasks.reconcile",
        "schedule": env_int("PREFLIGHT_RECONCILE_SECONDS", 600, minimum=30, maximum=86400),
    },
    "reminders": {"task": "training.tasks.send_reminders", "schedule": 300},
    "escalations": {"task": "training.tasks.send_escalations", "schedule": 900},
    # Leads' mails about a failed last attempt whose task was lost or whose mail failed.
    "lead-notices": {"task": "training.tasks.send_pending_lead_notices", "schedule": 300},
    "ready-releases": {"task": "training.tasks.notify_ready_releases", "schedule": 60},
    # Expiring skill records get the courses that renew them; their window is days,
    # so hourly is prompt enough.
    "recertification": {"task": "training.tasks.assign_recertification", "schedule": 3600},
}
