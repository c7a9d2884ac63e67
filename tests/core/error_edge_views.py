"""Views that raise the rarer kinds of error, mounted only by test_error_edges.py: Django's own exceptions
inside DRF views, a library's detail without a message, and a crash outside DRF."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.urls import include, path
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class _Open(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class DjangoForbiddenView(_Open):
    def get(self, request):
        raise DjangoPermissionDenied("staff only, says the model layer")


class SuspiciousView(_Open):
    def get(self, request):
        raise SuspiciousOperation("attempted access to ../../etc/passwd")


class DetailWithoutMessageView(_Open):
    def get(self, request):
        # As some libraries do: a structured detail with no "detail" string to show.
        raise PermissionDenied({"policy": [{"rule": "mfa_required", "factor": "totp"}]})


def plain_crash(request):
    """Not a DRF view: its crash reaches Django's handler500."""
    raise RuntimeError("the SMTP password is hunter2")


urlpatterns = [
    path("t/django-forbidden/", DjangoForbiddenView.as_view()),
    path("t/suspicious/", SuspiciousView.as_view()),
    path("t/detail-without-message/", DetailWithoutMessageView.as_view()),
    path("t/plain-crash/", plain_crash),
    path("", include("config.urls")),
]

handler400 = "backend.core.exceptions.json_bad_request"
handler403 = "backend.core.exceptions.json_permission_denied"
handler404 = "backend.core.exceptions.json_not_found"
handler500 = "backend.core.exceptions.json_server_error"
