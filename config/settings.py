"""Django settings: one module, everything read from the environment (django-environ).

Every variable is listed with its default in README.md ("Configuration"). Production defaults are the
safe ones: DEBUG off, hosts required, secure cookies and headers. `make run` and `make test` set the
development values (see scripts/devservices.py).
"""

import importlib.util
import ipaddress
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from backend.core import logformat, redis_urls
from backend.core.databases import database_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set (make run and make test set a development one)."
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_results",
    "auditlog",
    "axes",
    "backend.core",
    "backend.accounts",
    "backend.salons",
    "backend.bookings",
    "backend.notifications",
    "backend.reviews",
    "backend.photos",
    "backend.payments",
    "backend.einvoicing",
    "backend.waitlist",
]

MIDDLEWARE = [
    "backend.core.request_id.RequestIdMiddleware",
    "backend.core.metrics.HttpMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backend.core.audit.AuditlogMiddleware",  # auditlog's, with our client address
    "backend.core.db_router.ReplicaPinMiddleware",  # a writer reads from the primary for a while
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out admin login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"  # `make bench` runs config.bench_settings, which adds its baseline views
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# --- Data stores -------------------------------------------------------------------------------
if "DATABASE_URL" not in env:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test`, which start an embedded PostgreSQL."
    )
# The primary (or its PgBouncer), the read replicas and the pooler's needs: backend/core/databases.py.
DATABASES, DATABASE_REPLICAS = database_settings(env)
DATABASE_ROUTERS = ["backend.core.db_router.ReplicaRouter"]
# After a user's write, their reads stay on the primary this long (the replicas' lag must stay under it).
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if "REDIS_URL" not in env:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. Use `make run` / `make test`, which start an embedded Redis."
    )
REDIS_URL = env("REDIS_URL")
# Through Sentinel (docs/adr/0017), REDIS_URL / CACHE_URL list the Sentinels (`sentinel://h1:26379;
# sentinel://h2:26379/0`) and these name the masters they watch; backend/core/redis_urls.py hands each
# client of Redis what it needs.
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", default="salon-broker")

# The cache (throttle counters, short-lived figures) lives in the database after the broker's, so that
# clearing it can never drop queued tasks.
CACHE_URL = env("CACHE_URL", default=redis_urls.with_db(REDIS_URL, redis_urls.db_of(REDIS_URL) + 1))
CACHE_SENTINEL_MASTER = env("CACHE_SENTINEL_MASTER", default=REDIS_SENTINEL_MASTER)
CACHE_REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
# Replicas of the cache's Redis that must hold an OTP send's count before the send is granted (Redis WAIT;
# 503 otherwise). 1 behind Sentinel with two replicas: a failover then cannot forget a count.
CACHE_WAIT_REPLICAS = env.int("CACHE_WAIT_REPLICAS", default=0)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        **redis_urls.cache_settings(CACHE_URL, CACHE_SENTINEL_MASTER, CACHE_REDIS_OPTIONS),
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="salon"),
    }
}

# --- Auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The admin's password login (the API logs in by OTP and JWT, which never call authenticate()): django-axes
# refuses a user's password after ADMIN_LOGIN_FAILURE_LIMIT failures for ADMIN_LOGIN_COOLOFF_MINUTES
# (docs/adr/0010-admin-login.md). Its backend must come first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
# Failures count per user and address; with ADMIN_LOGIN_LOCKOUT_BY_USER also per user from any address, so
# guessing spread over many addresses stops too (at the price that anyone can lock an admin out for the
# cool-off: `manage.py axes_reset_username <phone>` lifts it).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]] + (
    ["username"] if env.bool("ADMIN_LOGIN_LOCKOUT_BY_USER", default=True) else []
)
AXES_USERNAME_FORM_FIELD = "username"  # the admin login form's field, whatever USERNAME_FIELD is
AXES_CLIENT_IP_CALLABLE = "backend.core.client_ip.axes_client_ip"  # proxies trusted only when configured
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login: failures (AccessAttempt) are what matter
AXES_HTTP_RESPONSE_CODE = 429

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# --- Phone numbers ------------------------------------------------------------------------------
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="SA")
PHONE_ALLOWED_REGIONS = env.list("PHONE_ALLOWED_REGIONS", default=["SA"])

# --- OTP login (docs/adr/0004-otp-login.md) -----------------------------------------------------
# One provider or several in order, comma-separated (`authentica,unifonic`): the next sends when one
# fails. Every provider setting is checked at start (backend/providers/registry.py, notifications app).
OTP_PROVIDER = env("OTP_PROVIDER", default="console" if DEBUG else "authentica")
OTP_HASH_KEY = env("OTP_HASH_KEY", default=SECRET_KEY)  # keys the HMAC of stored codes
OTP_CODE_TTL_SECONDS = env.int("OTP_CODE_TTL_SECONDS", default=300)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_RESEND_COOLDOWN_SECONDS = env.int("OTP_RESEND_COOLDOWN_SECONDS", default=60)
OTP_SEND_LIMIT_PER_PHONE_HOUR = env.int("OTP_SEND_LIMIT_PER_PHONE_HOUR", default=5)
OTP_SEND_LIMIT_PER_IP_HOUR = env.int("OTP_SEND_LIMIT_PER_IP_HOUR", default=20)
OTP_SEND_LIMIT_PER_NETWORK_HOUR = env.int("OTP_SEND_LIMIT_PER_NETWORK_HOUR", default=60)  # /24, /64
OTP_SEND_LIMIT_PER_PREFIX_HOUR = env.int("OTP_SEND_LIMIT_PER_PREFIX_HOUR", default=100)
# Past this many sends in the hour, each destination prefix gets only its fair share (README "Security").
OTP_SEND_BUDGET_HOUR = env.int("OTP_SEND_BUDGET_HOUR", default=1000)
# The time one login-code request may spend sending, across every provider it tries.
OTP_SEND_TIMEOUT_SECONDS = env.float("OTP_SEND_TIMEOUT_SECONDS", default=5.0)
# A provider failing this many times within the window is skipped for the cool-down (all web processes).
PROVIDER_BREAKER_FAILURES = env.int("PROVIDER_BREAKER_FAILURES", default=5)
PROVIDER_BREAKER_WINDOW_SECONDS = env.int("PROVIDER_BREAKER_WINDOW_SECONDS", default=60)
PROVIDER_BREAKER_COOLDOWN_SECONDS = env.int("PROVIDER_BREAKER_COOLDOWN_SECONDS", default=60)

# --- Sign in with Apple and Google (docs/adr/0014-social-sign-in.md) -----------------------------------
# The app's client ids an identity token's audience must be one of; an empty list disables the provider.
APPLE_CLIENT_IDS = [cid.strip() for cid in env.list("APPLE_CLIENT_IDS", default=[]) if cid.strip()]
GOOGLE_CLIENT_IDS = [cid.strip() for cid in env.list("GOOGLE_CLIENT_IDS", default=[]) if cid.strip()]
APPLE_JWKS_URL = env("APPLE_JWKS_URL", default="https://appleid.apple.com/auth/keys")
GOOGLE_JWKS_URL = env("GOOGLE_JWKS_URL", default="https://www.googleapis.com/oauth2/v3/certs")
SOCIAL_JWKS_CACHE_SECONDS = env.int("SOCIAL_JWKS_CACHE_SECONDS", default=3600)  # per web process
SOCIAL_JWKS_TIMEOUT_SECONDS = env.float("SOCIAL_JWKS_TIMEOUT_SECONDS", default=3.0)
# An unknown key id refetches the keys at most this often per process (PyJWKClient's cooldown).
SOCIAL_JWKS_REFRESH_COOLDOWN_SECONDS = 30
SOCIAL_TOKEN_LEEWAY_SECONDS = 60  # clock skew allowed on exp and iat

# --- External providers: one client each in backend/providers/, called through backend/core/http.py -
PROVIDER_CONNECT_TIMEOUT_SECONDS = env.float("PROVIDER_CONNECT_TIMEOUT_SECONDS", default=3.0)
AUTHENTICA_BASE_URL = env("AUTHENTICA_BASE_URL", default="https://api.authentica.sa/api/v2")
AUTHENTICA_API_KEY = env("AUTHENTICA_API_KEY", default="")
AUTHENTICA_SENDER_NAME = env("AUTHENTICA_SENDER_NAME", default="")
AUTHENTICA_TEMPLATE_ID = env.int("AUTHENTICA_TEMPLATE_ID", default=1)
UNIFONIC_BASE_URL = env("UNIFONIC_BASE_URL", default="https://el.cloud.unifonic.com")
UNIFONIC_APP_SID = env("UNIFONIC_APP_SID", default="")
UNIFONIC_SENDER_ID = env("UNIFONIC_SENDER_ID", default="")
MOYASAR_BASE_URL = env("MOYASAR_BASE_URL", default="https://api.moyasar.com/v1")
MOYASAR_SECRET_KEY = env("MOYASAR_SECRET_KEY", default="")
MOYASAR_WEBHOOK_SECRET = env("MOYASAR_WEBHOOK_SECRET", default="")
# Read timeout of one Moyasar call; a create may take up to three calls (create, look-up, create).
MOYASAR_TIMEOUT_SECONDS = env.float("MOYASAR_TIMEOUT_SECONDS", default=8.0)
# Push (backend/providers/fcm.py): the service-account JSON's token_uri is where OAuth2 tokens come from.
FCM_PROJECT_ID = env("FCM_PROJECT_ID", default="")
FCM_CREDENTIALS_FILE = env("FCM_CREDENTIALS_FILE", default="")
FCM_BASE_URL = env("FCM_BASE_URL", default="https://fcm.googleapis.com")
# WhatsApp Cloud API (backend/providers/whatsapp.py, whatsapp_webhook.py).
WHATSAPP_BASE_URL = env("WHATSAPP_BASE_URL", default="https://graph.facebook.com/v21.0")
WHATSAPP_TOKEN = env("WHATSAPP_TOKEN", default="")
WHATSAPP_PHONE_NUMBER_ID = env("WHATSAPP_PHONE_NUMBER_ID", default="")
WHATSAPP_APP_SECRET = env("WHATSAPP_APP_SECRET", default="")
WHATSAPP_VERIFY_TOKEN = env("WHATSAPP_VERIFY_TOKEN", default="")
# Message kind -> {"name", "languages", "parameters"}: the pre-approved templates (README "WhatsApp
# templates"); checked by backend.providers.whatsapp.template_mapping_problems.
WHATSAPP_TEMPLATES = env.json("WHATSAPP_TEMPLATES", default={})

# --- ZATCA e-invoicing (Fatoora phase 2; docs/adr/0009-einvoicing-foundation.md) --------------------
ZATCA_ENVIRONMENT = env("ZATCA_ENVIRONMENT", default="simulation")
if ZATCA_ENVIRONMENT not in ("sandbox", "simulation", "production"):
    raise ImproperlyConfigured("ZATCA_ENVIRONMENT must be sandbox, simulation or production.")
ZATCA_BASE_URL = env("ZATCA_BASE_URL", default="")  # empty: the environment's Fatoora base URL
ZATCA_TIMEOUT_SECONDS = env.float("ZATCA_TIMEOUT_SECONDS", default=15.0)
# Fernet key(s) that encrypt the units' private keys at rest; comma-separated, the first encrypts.
EINVOICING_KEY_ENCRYPTION_KEY = env("EINVOICING_KEY_ENCRYPTION_KEY", default="")
# Reporting by the workers (backend/einvoicing/reporting.py): the first retry's delay (doubling up to
# CELERY_MAX_RETRY_COUNTDOWN_SECONDS), and how long a document waits `issued` before the sweep steps in.
EINVOICING_REPORT_RETRY_BASE_DELAY_SECONDS = env.int("EINVOICING_REPORT_RETRY_BASE_DELAY_SECONDS", default=30)
EINVOICING_SWEEP_AFTER_SECONDS = env.int("EINVOICING_SWEEP_AFTER_SECONDS", default=300)

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = env("DJANGO_LANGUAGE_CODE", default="ar")
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "backend" / "locale"]
TIME_ZONE = "Asia/Riyadh"
USE_I18N = True
USE_TZ = True

# --- Static files (the admin and the API docs UI) -------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},  # see "Uploaded photos"
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "backend.core.staticfiles.ForgivingManifestStaticFilesStorage"
    },
}

# --- Uploaded photos (docs/adr/0007-reviews-and-photos.md) ----------------------------------------
# Local files under MEDIA_ROOT by default (served by Django in DEBUG only); `STORAGE_BACKEND=s3` keeps
# them in an S3-compatible bucket (django-storages + boto3 from requirements/s3.txt; credentials through
# boto3's own AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), served from there or a CDN in front of it.
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = env("MEDIA_URL", default="/media/")
STORAGE_BACKEND = env("STORAGE_BACKEND", default="local")
if STORAGE_BACKEND == "s3":
    if importlib.util.find_spec("boto3") is None:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs boto3: install requirements/s3.txt.")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "custom_domain": env("AWS_S3_CUSTOM_DOMAIN", default=None),
            "querystring_auth": False,  # public catalog photos: plain, cacheable URLs
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND != "local":
    raise ImproperlyConfigured("STORAGE_BACKEND must be local or s3.")
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=5 * 1024 * 1024)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=24_000_000)
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) bounds the non-file fields only; files larger than
# FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) are spooled to a temporary file. The photo views refuse bodies
# over PHOTO_MAX_BYTES before reading them (backend/photos/views.py).

# --- Reviews -------------------------------------------------------------------------------------
REVIEW_EDIT_WINDOW_HOURS = env.int("REVIEW_EDIT_WINDOW_HOURS", default=72)

# --- Security: safe unless told otherwise -------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Client addresses (backend/core/client_ip.py) -------------------------------------------------
# The socket address unless proxies are configured: X-Forwarded-For is read only behind API_NUM_PROXIES
# proxies, or from the right past hops in API_TRUSTED_PROXIES (CIDRs). Never both.
API_NUM_PROXIES = env.int("API_NUM_PROXIES", default=None)
API_TRUSTED_PROXIES = [cidr.strip() for cidr in env.list("API_TRUSTED_PROXIES", default=[]) if cidr.strip()]
if API_NUM_PROXIES is not None and API_TRUSTED_PROXIES:
    raise ImproperlyConfigured("Set API_NUM_PROXIES or API_TRUSTED_PROXIES, not both.")
if API_NUM_PROXIES is not None and API_NUM_PROXIES < 0:
    raise ImproperlyConfigured("API_NUM_PROXIES must be 0 or more.")
for _network in API_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"API_TRUSTED_PROXIES: {_network!r} is not an address or network."
        ) from _error

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # simplejwt's, refusing tokens of deleted or deactivated accounts at once.
    "DEFAULT_AUTHENTICATION_CLASSES": ["backend.accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser, refusing bodies nested deeper than API_JSON_MAX_DEPTH (backend/core/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["backend.core.parsers.DepthLimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "backend.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # drf-spectacular's, plus what holds for every operation: 429, Idempotency-Key, summaries.
    "DEFAULT_SCHEMA_CLASS": "backend.core.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "backend.core.exceptions.api_exception_handler",
    # One throttle, one Redis round trip: the anonymous rate per client address, the user rate per user.
    "DEFAULT_THROTTLE_CLASSES": ["backend.core.throttling.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="120/min"),
        "user": env("API_THROTTLE_USER", default="600/min"),
    },
    "NUM_PROXIES": API_NUM_PROXIES,  # unused by our throttle (backend/core/client_ip.py); kept in agreement
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Arrays and objects one JSON body may open inside one another; deeper is a 400 before parsing.
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)

SPECTACULAR_SETTINGS = {
    "TITLE": "Salon booking API",
    "DESCRIPTION": "The mobile API for customers, staff and salon managers. Errors share one body, "
    '`{"error": {"code", "message", "fields"?, ...}}` (the `Error` schema). Every operation that may answer '
    "429 says so, with the seconds to wait in `Retry-After` and `retry_after`; creating operations that "
    "honour an `Idempotency-Key` header declare it. Texts are English unless `?lang=` or Accept-Language "
    "asks for Arabic.",
    "VERSION": "1.0.0",
    "LICENSE": {"name": "MIT", "url": "https://opensource.org/license/mit"},
    # The API's public base URL in the schema's `servers`; unset, the schema names the host it was asked on.
    "SERVERS": [{"url": url} for url in env.list("API_PUBLIC_URL", default=[])],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",  # the default one, kept
        "backend.core.schema.add_field_errors_component",
        "backend.core.schema.document_empty_query_values",
        "backend.core.schema.name_the_requested_server",
    ],
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "backend.bookings.models.BookingStatus",
        "PaymentStatusEnum": "backend.bookings.models.PaymentStatus",
        "NotificationStatusEnum": "backend.notifications.models.Status",
        "NotificationChannelEnum": "backend.notifications.models.Channel",
        "ChannelEnum": "backend.accounts.models.OtpChannel",  # the name clients were generated with
        "PaymentGatewayStatusEnum": "backend.payments.models.Status",
        "DependencyStatusEnum": ["ok", "down"],
        "StaffInvitationStatusEnum": "backend.salons.models.InvitationStatus",
        "InvoiceStatusEnum": "backend.einvoicing.models.DocumentStatus",
        "InvoiceKindEnum": "backend.einvoicing.models.DocumentKind",
    },
}

# --- Celery (worker/celery.py reads every CELERY_* setting) -------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = timedelta(days=env.int("CELERY_RESULT_EXPIRES_DAYS", default=7))
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# Tasks are idempotent, so a task whose worker died is redelivered rather than lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacknowledged message after the visibility timeout: it must exceed the longest
# retry countdown (CELERY_MAX_RETRY_COUNTDOWN_SECONDS) and the hard time limit, or tasks run twice.
CELERY_MAX_RETRY_COUNTDOWN_SECONDS = env.int("CELERY_MAX_RETRY_COUNTDOWN_SECONDS", default=600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=3600),
    **redis_urls.broker_transport_options(CELERY_BROKER_URL, REDIS_SENTINEL_MASTER),
}
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "notifications.*": {"queue": "notifications"},
    "payments.*": {"queue": "payments"},
    "einvoicing.*": {"queue": "einvoicing"},
}
CELERY_WORKER_SEND_TASK_EVENTS = True
# A `task-sent` event is a second Redis write for every task published, on the request path after each
# booking commits. Off by default: what waits in a queue shows as queue length (Flower's broker page,
# /metrics), and Flower lists each task from the moment a worker receives it.
CELERY_TASK_SEND_SENT_EVENT = env.bool("CELERY_TASK_SEND_SENT_EVENT", default=False)
CELERY_TASK_TRACK_STARTED = True
CELERY_BEAT_SCHEDULE: dict = {}  # filled by worker/beat.py
# One beat anywhere (docs/adr/0017): every beat process takes celery-redbeat's lock in the broker's Redis
# and only the holder sends; the others wait. The holder renews the lock each tick (at most every
# BEAT_MAX_INTERVAL_SECONDS); a killed holder's lock expires after BEAT_LOCK_TIMEOUT_SECONDS and a waiting
# beat, polling every BEAT_MAX_INTERVAL_SECONDS, takes over; a stopped one releases it at once. Each
# entry's last run is kept in Redis too, so the new holder carries on the schedule without repeating it.
# worker/scheduler.py is redbeat's scheduler riding out a Redis outage: a tick that cannot reach Redis sends
# nothing and is tried again; a lock lost meanwhile is taken again (blocking) before anything is sent.
CELERY_BEAT_SCHEDULER = "worker.scheduler:OutageTolerantScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = env.int("BEAT_MAX_INTERVAL_SECONDS", default=5)
CELERY_REDBEAT_KEY_PREFIX = "salon:beat:"  # entries `salon:beat:<name>`, the schedule `salon:beat::schedule`
CELERY_REDBEAT_LOCK_KEY = "salon:beat:lock"
CELERY_REDBEAT_LOCK_TIMEOUT = env.int("BEAT_LOCK_TIMEOUT_SECONDS", default=30)
CELERY_REDBEAT_REDIS_URL, CELERY_REDBEAT_REDIS_OPTIONS = redis_urls.redbeat_settings(
    env("BEAT_REDIS_URL", default=CELERY_BROKER_URL),
    REDIS_SENTINEL_MASTER,
    # No redbeat `retry_period`: a call retried in a tick for longer than the lock lives could send after
    # another beat took the lock. A tick fails fast and the next one tries again (worker/scheduler.py).
    {"socket_connect_timeout": 2, "socket_timeout": 2},
)
if CELERY_REDBEAT_LOCK_TIMEOUT < 3 * CELERY_BEAT_MAX_LOOP_INTERVAL:
    raise ImproperlyConfigured(
        "BEAT_LOCK_TIMEOUT_SECONDS must be at least three times BEAT_MAX_INTERVAL_SECONDS, or a busy "
        "beat loses its lock between two ticks and a second beat starts sending too."
    )

if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= max(
    CELERY_MAX_RETRY_COUNTDOWN_SECONDS, CELERY_TASK_TIME_LIMIT
):
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT_SECONDS must exceed CELERY_MAX_RETRY_COUNTDOWN_SECONDS and "
        "CELERY_TASK_TIME_LIMIT, or Redis redelivers tasks that are still waiting or running."
    )

# --- Payments (docs/adr/0006-payments.md) ----------------------------------------------------------
PAYMENT_RECONCILE_AFTER_SECONDS = env.int("PAYMENT_RECONCILE_AFTER_SECONDS", default=120)
PAYMENT_RECONCILE_WINDOW_HOURS = env.int("PAYMENT_RECONCILE_WINDOW_HOURS", default=48)
PAYMENT_REFUND_MAX_ATTEMPTS = env.int("PAYMENT_REFUND_MAX_ATTEMPTS", default=8)
PAYMENT_REFUND_RETRY_BASE_DELAY_SECONDS = env.int("PAYMENT_REFUND_RETRY_BASE_DELAY_SECONDS", default=30)
# Where payers may be sent back after 3-D Secure: `https://host[:port][/path]` origins, comma-separated
# (backend/payments/serializers.py). Empty accepts any http(s) address: development only (salon.E011).
PAYMENT_CALLBACK_ALLOWED = env.list("PAYMENT_CALLBACK_ALLOWED", default=[])
for _entry in PAYMENT_CALLBACK_ALLOWED:
    _parts = urlsplit(_entry)
    if _parts.scheme not in ("http", "https") or not _parts.hostname or _parts.query or _parts.username:
        raise ImproperlyConfigured(
            f"PAYMENT_CALLBACK_ALLOWED entries must look like https://app.example.com[/path]: {_entry!r}"
        )

# --- Idempotency-Key (backend/core/idempotency.py) ---------------------------------------------
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)

# --- Notifications (docs/adr/0002-async-notifications.md) ---------------------------------------
SMS_PROVIDER = env("SMS_PROVIDER", default="console" if DEBUG else "authentica")
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=10)
NOTIFICATION_RETRY_BASE_DELAY_SECONDS = env.int("NOTIFICATION_RETRY_BASE_DELAY_SECONDS", default=30)
NOTIFICATION_RETRY_MAX_DELAY_SECONDS = env.int(
    "NOTIFICATION_RETRY_MAX_DELAY_SECONDS", default=CELERY_MAX_RETRY_COUNTDOWN_SECONDS
)
NOTIFICATION_RETRY_JITTER = env.float("NOTIFICATION_RETRY_JITTER", default=0.25)
NOTIFICATION_SEND_TIMEOUT_SECONDS = env.float("NOTIFICATION_SEND_TIMEOUT_SECONDS", default=10.0)
NOTIFICATION_STALE_SECONDS = env.int("NOTIFICATION_STALE_SECONDS", default=300)
NOTIFICATION_SWEEP_AFTER_SECONDS = env.int("NOTIFICATION_SWEEP_AFTER_SECONDS", default=300)
REMINDER_24H_OFFSET_MINUTES = env.int("REMINDER_24H_OFFSET_MINUTES", default=24 * 60)
REMINDER_2H_OFFSET_MINUTES = env.int("REMINDER_2H_OFFSET_MINUTES", default=2 * 60)
if NOTIFICATION_RETRY_MAX_DELAY_SECONDS > CELERY_MAX_RETRY_COUNTDOWN_SECONDS:
    raise ImproperlyConfigured(
        "NOTIFICATION_RETRY_MAX_DELAY_SECONDS exceeds CELERY_MAX_RETRY_COUNTDOWN_SECONDS."
    )
if NOTIFICATION_STALE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    # A row is only reclaimed once the task that claimed it must be dead (killed by the time limit).
    raise ImproperlyConfigured("NOTIFICATION_STALE_SECONDS must exceed CELERY_TASK_TIME_LIMIT.")
# A stale row on WhatsApp waits this much longer for Meta's status (which shows whether its dead worker's
# message went out) before it is sent again (backend/notifications/whatsapp_status.py).
WHATSAPP_STATUS_GRACE_SECONDS = env.int("WHATSAPP_STATUS_GRACE_SECONDS", default=60)
if not 0 <= WHATSAPP_STATUS_GRACE_SECONDS <= 600:
    # Bounded: the message of a worker that died before sending it waits this long on top of staleness.
    raise ImproperlyConfigured("WHATSAPP_STATUS_GRACE_SECONDS must be between 0 and 600.")

# --- Cancelling what a closure or time off is in the way of (backend/bookings/bulk_cancellations.py) ---
BULK_CANCEL_STALE_SECONDS = env.int("BULK_CANCEL_STALE_SECONDS", default=300)
if BULK_CANCEL_STALE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    # A cancellation is only resumed once the batch that last moved it must be dead (the time limit).
    raise ImproperlyConfigured("BULK_CANCEL_STALE_SECONDS must exceed CELERY_TASK_TIME_LIMIT.")

# --- Data retention (docs/data-retention.md; run daily by beat, worker/tasks/retention.py) -------------
RETENTION_OTP_DAYS = env.int("RETENTION_OTP_DAYS", default=1)  # days past a login code's expiry
RETENTION_NOTIFICATION_BODY_DAYS = env.int("RETENTION_NOTIFICATION_BODY_DAYS", default=30)

# --- Audit trail (backend/core/audit.py) --------------------------------------------------------
# A create or delete entry would list every reverse relation too, as "app.Model.None" (a one-to-one one
# costs a query): each model excludes its own (tests/core/test_audit.py keeps these lists complete).
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {
        "model": "accounts.User",
        "exclude_fields": [
            "password",
            "last_login",
            "logentry",
            "outstandingtoken",
            "staff_profiles",
            "bookings",
            "notifications",
            "devices",
            "reviews",
            "social_identities",
        ],
        "mask_fields": ["phone_number"],
    },
    {
        "model": "salons.Salon",
        "exclude_fields": [
            "business_hours",
            "services",
            "staff",
            "closures",
            "special_hours",
            "bookings",
            "reviews",
            "photos",
            "tax_profile",
            "einvoicing_unit",
        ],
    },
    {"model": "salons.Service", "exclude_fields": ["staff_services", "bookings", "booking_items", "reviews"]},
    {
        "model": "salons.StaffMember",
        "exclude_fields": [
            "staff_services",
            "working_hours",
            "special_hours",
            "time_off",
            "bookings",
            "booking_items",
            "reviews",
            "photos",
        ],
    },
    "salons.StaffService",
    "salons.BusinessHours",
    "salons.WorkingHours",
    "salons.TimeOff",
    "salons.Closure",
    "salons.SpecialHours",
    {
        "model": "bookings.Booking",
        "exclude_fields": [
            "updated_at",
            "review",
            "payments",
            "in_salon_payment",
            "einvoicing_documents",
            "items",
        ],
    },
    # Every money action: payments (capture, refund, void, state changes) and each refund request.
    {
        "model": "payments.Payment",
        "exclude_fields": ["gateway_payload", "updated_at", "refunds", "webhook_events"],
    },
    {"model": "payments.Refund", "exclude_fields": ["updated_at"]},
    "payments.InSalonPayment",
    # E-invoicing: who changed the seller's details, and the unit's onboarding (never its secrets).
    {"model": "einvoicing.TaxProfile", "exclude_fields": ["updated_at"]},
    {
        "model": "einvoicing.Unit",
        "exclude_fields": [
            "documents",
            "private_key",
            "compliance_secret",
            "production_secret",
            "compliance_token",
            "production_token",
            "reporting_claimed_at",
            "report_not_before",
            "updated_at",
        ],
    },
    {"model": "reviews.Review", "exclude_fields": ["updated_at"]},
)

# --- Operations ---------------------------------------------------------------------------------
# Prometheus scrapes /metrics with this bearer token; unset, the endpoint answers 404.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
HEALTH_WORKER_PING_TIMEOUT = env.float("HEALTH_WORKER_PING_TIMEOUT", default=1.0)
HEALTH_WORKER_CACHE_SECONDS = env.int("HEALTH_WORKER_CACHE_SECONDS", default=10)

# JSON lines for the log stack in production (with the client address), readable lines in development;
# both carry the request id and a UTC time (gunicorn's own lines too: config/gunicorn.py).
LOG_FORMAT = env("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "backend.core.request_id.RequestIdLogFilter"}},
    "formatters": logformat.formatters(),  # times in UTC, whatever TIME_ZONE says
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},  # its start-up banner, in every process; lockouts still log
    },
}

# --- Error reporting: Sentry, only when SENTRY_DSN is set -----------------------------------------
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,  # no phone numbers, user ids or request bodies leave for Sentry
    )

# Workers log through the same configuration (and so with the request id), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CSRF_FAILURE_VIEW = "backend.core.exceptions.json_csrf_failure"
