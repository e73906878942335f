"""Django settings, read from the environment.

Local defaults need nothing installed (SQLite under `.data/`, local-memory cache,
console e-mail, DEBUG on). `DJANGO_ENV=production` turns DEBUG off and refuses to
start without the variables production cannot guess. Every variable is listed in
`.env.example` and the README.
"""

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from issuetracker.clientip import parse_trusted_proxies
from issuetracker.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / ".data"))


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no variable; unknown spellings are a configuration error."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated variable into a list without blanks."""
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


ENVIRONMENT = os.environ.get("DJANGO_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be 'development' or 'production', got {ENVIRONMENT!r}."
    )
IS_PRODUCTION = ENVIRONMENT == "production"

PRODUCTION_REQUIRED = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "GOOGLE_CLOUD_PROJECT",
)
if IS_PRODUCTION:
    missing = [name for name in PRODUCTION_REQUIRED if not os.environ.get(name)]
    if missing:
        raise ImproperlyConfigured(
            "Production settings (DJANGO_ENV=production) refuse to start without "
            f"{', '.join(missing)}. Set them in the environment; see .env.example."
        )

DEBUG = False if IS_PRODUCTION else env_bool("DEBUG", True)
# The development key only ever signs local sessions; production requires its own.
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-local-development-only"
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "" if IS_PRODUCTION else "127.0.0.1,localhost,[::1]"
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Never Django's HTML page under /api/: a problem+json 403 there.
CSRF_FAILURE_VIEW = "issuetracker.exception_handler.csrf_failure"

INSTALLED_APPS = [
    "accounts.apps.TrackerAdminConfig",  # django.contrib.admin, admins only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "django_tasks",
    "django_tasks_db",
    "issuetracker",
    "accounts",
    "issues",
    "notifications",
]

MIDDLEWARE = [
    # First, so every response (redirects and refusals too) carries X-Request-ID.
    "issuetracker.logs.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

if IS_PRODUCTION:
    # Serves collected static files in production; runserver serves them locally.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "issuetracker.urls"
WSGI_APPLICATION = "issuetracker.wsgi.application"

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
                "notifications.context_processors.unread_badge",
            ],
        },
    },
]

# Relational data (users, roles, keys, sessions): SQLite locally, PostgreSQL in
# production. The connect timeout keeps a dead database from holding a worker.
if not os.environ.get("DATABASE_URL"):
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 3
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rate-limit counters must be shared by gunicorn workers, hence Redis in production:
# with per-process counters each worker allows the full rate. RATE_LIMIT_STORE=
# per-process accepts that, for single-worker deployments only.
RATE_LIMIT_STORE = os.environ.get("RATE_LIMIT_STORE") or "shared"
if RATE_LIMIT_STORE not in {"shared", "per-process"}:
    raise ImproperlyConfigured(
        f"RATE_LIMIT_STORE must be 'shared' or 'per-process', got {RATE_LIMIT_STORE!r}."
    )
if IS_PRODUCTION and RATE_LIMIT_STORE == "shared" and not os.environ.get("REDIS_URL"):
    raise ImproperlyConfigured(
        "Production settings (DJANGO_ENV=production) refuse to start without "
        "REDIS_URL: rate-limit counters must be shared by all gunicorn workers. "
        "For a single-worker deployment set RATE_LIMIT_STORE=per-process instead."
    )
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            # Django's Redis cache, except that an outage reads as misses.
            "BACKEND": "issuetracker.cache.ForgivingRedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

# Accounts: staff sign in with Google only (accounts/adapters.py holds the rules);
# ModelBackend serves sessions and the DEBUG-only development login.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
# Lower-cased e-mail domains whose verified Google accounts may sign in (exact match).
ALLOWED_EMAIL_DOMAINS = [
    domain.lower() for domain in env_list("ALLOWED_EMAIL_DOMAINS", "quantory.app")
]
# Anonymous API callers may act as the service they name (the old app's contract).
ALLOW_ANONYMOUS_SERVICES = env_bool("ALLOW_ANONYMOUS_SERVICES", not IS_PRODUCTION)
# Password login for local users, for working without Google credentials.
DEV_LOGIN_ENABLED = DEBUG and not IS_PRODUCTION
SOCIALACCOUNT_ONLY = True
SOCIALACCOUNT_ADAPTER = "accounts.adapters.DomainLockedSocialAccountAdapter"
ACCOUNT_ADAPTER = "accounts.adapters.NoSignupAccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # the login starts with a POST (CSRF-protected)
SOCIALACCOUNT_STORE_TOKENS = False  # only the identity is needed, not Google APIs
# The Google app: GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET, or a SocialApp in the admin.
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "SCOPE": ["openid", "email", "profile"],
        "AUTH_PARAMS": {"prompt": "select_account"},
        "OAUTH_PKCE_ENABLED": True,
        **(
            {
                "APP": {
                    "client_id": os.environ["GOOGLE_CLIENT_ID"],
                    "secret": os.environ.get("GOOGLE_CLIENT_SECRET", ""),
                }
            }
            if os.environ.get("GOOGLE_CLIENT_ID")
            else {}
        ),
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "issues@quantory.app")
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
# SMTP (production): a Google Workspace relay is smtp-relay.gmail.com:587 with TLS.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587" if IS_PRODUCTION else "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", IS_PRODUCTION)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
# Where links in e-mails point (the portal's public address).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Background work (notifications): django-tasks with its database backend, so
# the relational database is the queue; `manage.py db_worker` runs the tasks.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Firestore: the project and database to use; the emulator when
# FIRESTORE_EMULATOR_HOST is set (the client library reads it).
GOOGLE_CLOUD_PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-issuetracker")
FIRESTORE_DATABASE = os.environ.get("FIRESTORE_DATABASE", "(default)")
FIRESTORE_TIMEOUT = float(os.environ.get("FIRESTORE_TIMEOUT", "5"))
FIRESTORE_EMULATOR_DATA_DIR = DATA_DIR / "firestore"
# The classes behind the issue store and the dashboard's queries (import paths),
# chosen as Django chooses a session engine.
ISSUE_REPOSITORY = "issues.store.firestore.FirestoreIssueRepository"
DASHBOARD_STORE = "issues.store.dashboard.FirestoreDashboardStore"
# Reports folded into an issue and the counter moves of new issues are written
# once this many seconds per process, not once per report (issues/store/buffers.py;
# README, "Ingest"). 0 writes every report at once.
INGEST_BUFFER_SECONDS = float(os.environ.get("INGEST_BUFFER_SECONDS", "1"))

# Request bodies over 1 MiB are refused with 413 (JSON included, see parsers.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every error under /api/ is problem+json (issuetracker/exception_handler.py).
    "EXCEPTION_HANDLER": "issuetracker.exception_handler.problem_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "issuetracker.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Bearer keys first, so an anonymous caller gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsStaffOrService"],
    "DEFAULT_THROTTLE_CLASSES": ["issuetracker.throttling.WriteRateThrottle"],
}
# Writes (create, comment, change, delete) per caller, counted in the shared cache.
API_WRITE_RATE = os.environ.get("API_WRITE_RATE", "120/m")
# Whose address an anonymous caller has (issuetracker/clientip.py): a count of
# proxies in front of the app or their CIDRs; empty trusts none (REMOTE_ADDR).
TRUSTED_PROXIES = os.environ.get("TRUSTED_PROXIES", "")
try:
    parse_trusted_proxies(TRUSTED_PROXIES)
except ValueError as error:
    raise ImproperlyConfigured(str(error)) from None
# When the cache cannot count, let the call through: a service's bug report is
# worth more than the limit.
RATELIMIT_FAIL_OPEN = True
# Portal form writes (new issue, comment, edit, bulk actions) per signed-in person.
PORTAL_WRITE_RATE = os.environ.get("PORTAL_WRITE_RATE") or "60/m"
for _name, _rate in (
    ("API_WRITE_RATE", API_WRITE_RATE),
    ("PORTAL_WRITE_RATE", PORTAL_WRITE_RATE),
):
    if not re.fullmatch(r"\d+/\d*[smhd]", _rate):
        raise ImproperlyConfigured(
            f"{_name} must look like 120/m (count/period: s, m, h, d), got {_rate!r}."
        )

# OpenAPI schema at /api/schema/, Swagger UI at /api/docs/ from local static files.
SPECTACULAR_SETTINGS = {
    "TITLE": "AlphaFusion Issue Tracker API",
    "DESCRIPTION": (
        "Issues, comments and history. Errors are RFC 9457 problem+json with "
        "`code`, `errors` and `error`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "issues.schema.closed_request_bodies",
        "issues.schema.issue_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": ["open", "in-progress", "resolved", "closed"],
        "HealthStatusEnum": ["healthy", "unhealthy"],
    },
}

# Pages and assets come from this origin only; no inline scripts or styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https://lh3.googleusercontent.com"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", "https://accounts.google.com"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if IS_PRODUCTION:
    # TLS ends at the load balancer, which sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^api/health$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Logs go to stdout: JSON lines in production (one object a record, with the
# request id, caller and client IP), the readable format locally. Every record
# of a request carries its id (X-Request-ID); see issuetracker/logs.py.
LOG_FORMAT = os.environ.get("LOG_FORMAT") or ("json" if IS_PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}.")
LOGGING = logging_config(LOG_FORMAT, os.environ.get("LOG_LEVEL", "INFO"))
