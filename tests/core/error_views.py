"""Views that raise each kind of error, mounted only by the error-shape tests."""

import redis
from django.urls import include, path
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from backend.core.errors import ApplicationError


class _Input(serializers.Serializer):
    start = serializers.DateTimeField()
    count = serializers.IntegerField(min_value=1)


class _Open(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class ValidateView(_Open):
    def post(self, request):
        _Input(data=request.data).is_valid(raise_exception=True)
        return Response({"ok": True})


class PrivateView(APIView):
    """Default authentication and permissions: a JWT is required."""

    def get(self, request):
        return Response({"ok": True})


class ForbiddenView(_Open):
    def get(self, request):
        raise PermissionDenied()


class ConflictView(_Open):
    def get(self, request):
        raise ApplicationError("slot_unavailable", "That time was just taken.", status=409, extra={"hint": 1})


class CrashView(_Open):
    def get(self, request):
        raise RuntimeError("database password is hunter2")  # must never reach the client


class RedisDownView(_Open):
    def get(self, request):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 10.0.0.9:6379")


class NestedDetailView(APIView):
    permission_classes = [AllowAny]  # default JWT authentication, so the 401 carries its challenge

    def get(self, request):
        from rest_framework_simplejwt.exceptions import InvalidToken

        raise InvalidToken({"detail": "Given token not valid for any token type", "messages": []})


class _OnePerMinute(AnonRateThrottle):
    rate = "1/min"


class ThrottledView(_Open):
    throttle_classes = [_OnePerMinute]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("t/validate/", ValidateView.as_view()),
    path("t/private/", PrivateView.as_view()),
    path("t/forbidden/", ForbiddenView.as_view()),
    path("t/conflict/", ConflictView.as_view()),
    path("t/crash/", CrashView.as_view()),
    path("t/throttled/", ThrottledView.as_view()),
    path("t/redis-down/", RedisDownView.as_view()),
    path("t/nested/", NestedDetailView.as_view()),
    path("", include("config.urls")),
]

handler400 = "backend.core.exceptions.json_bad_request"
handler403 = "backend.core.exceptions.json_permission_denied"
handler404 = "backend.core.exceptions.json_not_found"
handler500 = "backend.core.exceptions.json_server_error"
