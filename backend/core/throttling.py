"""DRF's throttles with the client address of `backend/core/client_ip.py`: DRF's own get_ident trusts
X-Forwarded-For whenever NUM_PROXIES is unset."""

from rest_framework import throttling
from rest_framework.request import Request

from backend.core.client_ip import client_ip


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_ident(self, request: Request) -> str:
        return client_ip(request)


class UserRateThrottle(throttling.UserRateThrottle):
    def get_ident(self, request: Request) -> str:
        return client_ip(request)
