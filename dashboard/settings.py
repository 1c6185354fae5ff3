"""Django settings, read from the environment once (see dashboard/config.py and docs/operations.md).

Every environment variable is read here, through dashboard/config.py's typed `env_*` functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
import plotly

from dashboard.config import (
    ConfigurationError,
    env_bool,
    env_int,
    env_int_map,
    env_list,
    env_path,
    env_str,
    parse_track_store,
    parse_warehouse,
    warehouse_root_resolve,
)
from playback.limits import limits_build

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("DISPATCHSCOPE_VAR_DIR", BASE_DIR / "var")
try:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ConfigurationError(f"cannot create DISPATCHSCOPE_VAR_DIR={VAR_DIR}: {exc}") from None

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("DISPATCHSCOPE_REQUIRE_SECRET", default=False):
        raise ConfigurationError("DJANGO_SECRET_KEY must be set when DISPATCHSCOPE_REQUIRE_SECRET is on")
    # A development key: fine on a laptop, refused where DISPATCHSCOPE_REQUIRE_SECRET is set.
    SECRET_KEY = "dispatchscope-development-key-not-for-production"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ("127.0.0.1", "localhost"))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "dashboard",
    "storage",
    "pipeline",
    "playback",
    "experiments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
ASGI_APPLICATION = "dashboard.asgi.application"
WSGI_APPLICATION = None

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

_database_url = env_str("DATABASE_URL")
if _database_url:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    except ValueError as exc:
        raise ConfigurationError(f"DATABASE_URL is not usable: {exc}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(env_path("SQLITE_PATH", VAR_DIR / "dispatchscope.sqlite3")),
        }
    }

_redis_url = env_str("REDIS_URL")
CHANNEL_LAYERS: dict[str, dict[str, Any]] = (
    {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [_redis_url]}}}
    if _redis_url
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)

# The track store and the warehouse are chosen here, once, like CACHES: an alias dict, built lazily by
# storage.connections and rebuilt when a test overrides the setting.
_track = parse_track_store(
    env_str("TRACK_STORE"), var_dir=VAR_DIR, map_size_gb=env_int("LMDB_MAP_SIZE_GB", 64, minimum=1)
)
TRACK_STORES: dict[str, dict[str, Any]] = {"default": _track.setting()}
_warehouse_root = env_str("WAREHOUSE_ROOT")
_warehouse = parse_warehouse(
    env_str("WAREHOUSE"), var_dir=VAR_DIR, default_root=Path(_warehouse_root) if _warehouse_root else None
)
WAREHOUSES: dict[str, dict[str, Any]] = {"default": _warehouse.setting()}
# Where the pipeline writes Parquet (the warehouse reads it; Presto/Trino see it through a Hive catalog).
WAREHOUSE_ROOT = warehouse_root_resolve(warehouse=_warehouse, root=_warehouse_root, var_dir=VAR_DIR)
QUARANTINE_DIR = env_path("QUARANTINE_DIR", VAR_DIR / "quarantine")

# Limits of a playback socket (playback/limits.py): PLAYBACK_LIMITS="credits=8,fetch_window_ms=600000".
PLAYBACK_LIMITS: dict[str, int] = env_int_map("PLAYBACK_LIMITS")
try:
    limits_build(PLAYBACK_LIMITS)
except ValueError as exc:
    raise ConfigurationError(f"PLAYBACK_LIMITS: {exc}") from None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# plotly.js comes from the installed plotly package (no CDN): served as static/vendor/plotly/plotly.min.js.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", Path(plotly.__file__).parent / "package_data")]
PLOTLY_JS_URL = "/" + STATIC_URL + "vendor/plotly/plotly.min.js"
# The playback map's basemap: an XYZ raster tile URL template (https://tiles.example/{z}/{x}/{y}.png) for
# deployments with a tile server; empty (no network) draws the roads the dataset knows, or the density of
# its tracks.
PLAYBACK_BASEMAP_TILES = env_str("PLAYBACK_BASEMAP_TILES")
STATIC_ROOT = VAR_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
