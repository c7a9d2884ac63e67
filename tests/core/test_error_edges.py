"""The rarer ways an error reaches the client, each still in the contract's JSON body: Django's own
exceptions raised inside DRF views, a structured detail without a message, a bad Host header, a CSRF
refusal and a crash outside DRF."""

import logging

import pytest
from django.test import Client

from backend.core.errors import ApplicationError

pytestmark = [pytest.mark.urls("tests.core.error_edge_views"), pytest.mark.django_db]


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_djangos_permission_denied_in_an_api_view_is_403(api_client):
    response = api_client.get("/t/django-forbidden/")
    error = assert_error_shape(response, 403, "permission_denied")
    assert "staff only" not in error["message"]


def test_a_suspicious_operation_in_an_api_view_is_400_without_its_details(api_client):
    error = assert_error_shape(
        api_client.get("/t/suspicious/", HTTP_ACCEPT_LANGUAGE="en"), 400, "bad_request"
    )
    assert error == {"code": "bad_request", "message": "The request could not be understood."}


def test_a_detail_without_a_message_shows_the_errors_default_message(api_client):
    error = assert_error_shape(
        api_client.get("/t/detail-without-message/", HTTP_ACCEPT_LANGUAGE="en"), 403, "permission_denied"
    )
    assert error["message"] == "You do not have permission to perform this action."


def test_a_host_not_allowed_is_a_json_400(api_client):
    response = api_client.get("/health/", HTTP_HOST="attacker.example")
    assert_error_shape(response, 400, "bad_request")


def test_a_csrf_refusal_outside_the_api_is_a_json_403():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x", "password": "y"}, HTTP_ACCEPT_LANGUAGE="en")
    error = assert_error_shape(response, 403, "csrf_failed")
    assert error["message"] == "The request was refused (CSRF check failed)."


def test_a_crash_outside_drf_is_a_json_500_that_tells_nothing(caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/t/plain-crash/", HTTP_ACCEPT_LANGUAGE="en")
    error = assert_error_shape(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert error["message"] == "Something went wrong on our side. Please try again."
    assert "hunter2" in caplog.text  # logged for ops


def test_an_application_errors_repr_names_its_code_and_status_not_its_message():
    error = ApplicationError("slot_unavailable", "Sara is booked at 16:30.", status=409)
    assert repr(error) == "ApplicationError('slot_unavailable', status=409)"
