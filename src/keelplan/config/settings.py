"""Django settings for Keelplan, read from the environment (see ``keelplan.config.env``)."""

from __future__ import annotations

import os
from datetime import timedelta

from keelplan.config import env

DATA_DIR = env.data_dir()
SECRET_KEY = env.secret_key(DATA_DIR)
DEBUG = env.flag("KEELPLAN_DEBUG")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("KEELPLAN_ALLOWED_HOSTS", "*").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "keelplan.changelog",
    "keelplan.accounts",
    "keelplan.calendars",
    "keelplan.portfolio",
    "keelplan.planning",
    "keelplan.resources",
    "keelplan.customfields",
    "keelplan.timesheets",
    "keelplan.sync",
    "keelplan.scheduling",
]

MIDDLEWARE = [
    "keelplan.api.v3.paths.normalise_v3_paths",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "keelplan.config.middleware.worker_pid_header",
    "keelplan.api.common.bodies.RequestBodyMiddleware",
]

ROOT_URLCONF = "keelplan.config.urls"
WSGI_APPLICATION = "keelplan.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.database_from_url(os.environ.get("DATABASE_URL"), DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Only `collectstatic` (optional, for a front proxy) writes here; WhiteNoise serves from the apps otherwise.
STATIC_ROOT = os.environ.get("KEELPLAN_STATIC_ROOT") or None
# WhiteNoise serves straight from the installed apps' static folders, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Defaults for a view that sets nothing itself, and only those: each API dialect sets its authentication,
# renderers, pages, filters, schema class and exception handler on its own base class (v1: api.v1.views.V1Mixin),
# so no dialect's choices leak into another. A view that forgets them refuses everyone (no authenticator, and
# IsAuthenticated) rather than speaking some dialect by accident.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": None,
    "DEFAULT_FILTER_BACKENDS": [],
    # drf-spectacular's own class: @extend_schema builds on this one; a dialect's views name their own.
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["keelplan.api.common.bodies.JSONBodyParser"],
    "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("KEELPLAN_ACCESS_MINUTES", "15"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=int(os.environ.get("KEELPLAN_REFRESH_HOURS", "12"))),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Keelplan API (TruePPM v1 dialect)",
    "DESCRIPTION": "Projects, tasks, dependencies, calendars and resources; schedule fields are computed by the server.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Project roles appear as a plain value list in several serializers; give that one choice set one name.
    "ENUM_NAME_OVERRIDES": {"RoleEnum": [(role, role) for role in (1, 100, 200, 300, 400)]},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEELPLAN_LOG_LEVEL", "WARNING")},
}

# How long soft-deleted rows stay visible as tombstones in the sync feed.
KEELPLAN_TOMBSTONE_RETENTION_DAYS = int(os.environ.get("KEELPLAN_TOMBSTONE_RETENTION_DAYS", "90"))

# ---------------------------------------------------------------- heavy requests and scheduling caches
# Heavy requests (bulk writes, sync push and pull, schedule recomputes, writes with large bodies) hold a slot
# while they run: at most KEELPLAN_HEAVY_PER_USER per user and KEELPLAN_HEAVY_SERVER in the whole deployment
# (every process and host sharing the database), so one user cannot take every worker; past either bound the
# answer is 429 with Retry-After. 0 turns a bound off. `keelplan serve --workers N` exports KEELPLAN_WORKERS.
KEELPLAN_WORKERS = max(1, int(os.environ.get("KEELPLAN_WORKERS", "1")))
KEELPLAN_HEAVY_PER_USER = int(os.environ.get("KEELPLAN_HEAVY_PER_USER", "1"))
# One worker is always left for light requests, such as reads of other projects.
KEELPLAN_HEAVY_SERVER = int(os.environ.get("KEELPLAN_HEAVY_SERVER", str(max(1, KEELPLAN_WORKERS - 1))))
KEELPLAN_HEAVY_BODY_KB = int(os.environ.get("KEELPLAN_HEAVY_BODY_KB", "256"))
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["keelplan.api.common.throttling.HeavyRequestThrottle"]
MIDDLEWARE.append("keelplan.api.common.throttling.heavy_slot_release")
# The scheduling inputs and computed schedules each process keeps, together, in estimated megabytes (0: no
# bound but the count of projects); least recently used projects go first.
KEELPLAN_SCHEDULE_CACHE_MB = float(os.environ.get("KEELPLAN_SCHEDULE_CACHE_MB", "128"))

# ---------------------------------------------------------------- request bodies (keelplan.api.common.bodies)
# Refused before any view runs, in the dialect's JSON: a body over KEELPLAN_MAX_BODY_MB (Django's own 2.5 MB) with
# 413 body_too_large -- over KEELPLAN_MAX_BULK_BODY_MB on the bulk and sync endpoints, for a caller who
# authenticates -- and JSON nested deeper than KEELPLAN_MAX_JSON_DEPTH (at most 1024, orjson's own bound) with 400
# body_too_deep. The deepest body a client sends, a sync push, is five levels.
KEELPLAN_MAX_BODY_BYTES = int(float(os.environ.get("KEELPLAN_MAX_BODY_MB", "2.5")) * 2**20)
# A full 20,000-task, 50,000-link bulk body is about 20 MB.
KEELPLAN_MAX_BULK_BODY_BYTES = int(float(os.environ.get("KEELPLAN_MAX_BULK_BODY_MB", "64")) * 2**20)
KEELPLAN_MAX_JSON_DEPTH = int(os.environ.get("KEELPLAN_MAX_JSON_DEPTH", "32"))
