"""OpenAPI (drf-spectacular) description of our JWT authentication: simplejwt's bearer scheme."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class JWTAuthenticationScheme(SimpleJWTScheme):
    target_class = "backend.accounts.authentication.JWTAuthentication"
