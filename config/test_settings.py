"""Test settings: the production module (DEBUG off), made fast and isolated. Selected by pytest."""

from config.settings import *  # noqa: F403
from config.settings import CACHES, REST_FRAMEWORK, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in production
CACHES["default"]["KEY_PREFIX"] = "salon-test"
SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests call the API as often as they need; throttling has its own tests that set rates explicitly.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
# A database that lags behind the primary on purpose, for the replica tests (tests/core/test_replica_lag.py):
# a stale copy on the same server, created and migrated only when a test asks for it. A run with real
# replicas (DATABASE_REPLICA_URLS, scripts/replica_suite.sh) uses a paused streaming replica instead.
DATABASES = {
    **DATABASES,  # noqa: F405
    "lagging_copy": {
        **DATABASES["default"],  # noqa: F405
        "TEST": {"NAME": f"test_{DATABASES['default']['NAME']}_lagging"},  # noqa: F405
    },
}
