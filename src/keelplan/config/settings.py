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
    "keelplan.accounts",
    "keelplan.calendars",
    "keelplan.portfolio",
    "keelplan.planning",
    "keelplan.resources",
    "keelplan.sync",
    "keelplan.scheduling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "keelplan.core.middleware.worker_pid_header",
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

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "keelplan.api.v1.authentication.ApiTokenAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "keelplan.api.v1.pagination.CursorPage",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "keelplan.api.v1.schema.KeelplanAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["keelplan.api.v1.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "keelplan.api.v1.errors.exception_handler",
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
