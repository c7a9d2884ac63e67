"""The OpenAPI schema describes every account endpoint with its errors, without generator warnings."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("/api/v1/auth/otp/request/", "post"): {"202", "400", "429", "502"},
    ("/api/v1/auth/otp/verify/", "post"): {"200", "400", "403", "429"},
    ("/api/v1/auth/social/", "post"): {"200", "400", "403", "429", "503"},
    ("/api/v1/auth/token/refresh/", "post"): {"200", "400", "401", "429"},
    ("/api/v1/auth/logout/", "post"): {"204", "400", "401", "429"},
    ("/api/v1/me/", "get"): {"200", "401", "429"},
    ("/api/v1/me/", "patch"): {"200", "400", "401", "429"},
    ("/api/v1/me/", "delete"): {"204", "401", "429"},
    ("/api/v1/me/export/", "get"): {"200", "401", "429"},
}


def test_account_endpoints_are_described(capsys):
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "backend/accounts" in line]
    assert warnings == []
    for (path, method), statuses in ENDPOINTS.items():
        operation = schema["paths"][path][method]
        assert set(operation["responses"]) == statuses, (path, method)
        for status in statuses - {"200", "202", "204"}:
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
    assert schema["paths"]["/api/v1/me/"]["get"]["security"] == [{"jwtAuth": []}]
    verify = schema["components"]["schemas"]["OtpLogin"]["properties"]
    assert set(verify) == {"access", "refresh", "user", "is_new_user"}
    # Verify takes an optional access token (it attaches the phone to a Sign in with Apple/Google account).
    assert schema["paths"]["/api/v1/auth/otp/verify/"]["post"]["security"] == [{"jwtAuth": []}, {}]
    social = schema["paths"]["/api/v1/auth/social/"]["post"]
    assert social["summary"] == "Sign in with Apple or Google"
    assert "social_token_invalid" in social["responses"]["400"]["description"]
    assert "social_keys_unavailable" in social["responses"]["503"]["description"]
    assert schema["components"]["schemas"]["User"]["properties"]["phone"]["nullable"] is True
    for path in ("/api/v1/bookings/", "/api/v1/bookings/{booking_id}/payments/"):
        assert "phone_required" in schema["paths"][path]["post"]["responses"]["403"]["description"]


def test_the_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200 and b"/api/v1/auth/otp/verify/" in response.content
