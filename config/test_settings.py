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
