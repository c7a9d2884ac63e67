"""The Fatoora API (ZATCA e-invoicing, phase 2) over `backend.core.http.provider_call`.

``ZATCA_ENVIRONMENT`` picks the base URL (``ZATCA_BASE_URL`` overrides it: the fake in development and
tests). Every call sends ``Accept-Version: V2`` and ``Accept-Language: en``; calls after onboarding
authenticate with Basic ``binarySecurityToken:secret``.

Reporting answers are classified (providers.md "Reporting"): 200 reported, 202 reported with warnings,
409 (already reported) reported, 400 rejected with ZATCA's messages, 401 `ProviderError` ``unauthorized``;
413, 429, 5xx, timeouts and lost connections are retryable `ProviderError`s. A report is retried once
here on a retryable failure: resending is safe, since a duplicate answers 409, which counts as reported.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_fixed

from backend.core.http import ProviderError, provider_call

PROVIDER = "zatca"
BASE_URLS = {
    "sandbox": "https://gw-fatoora.zatca.gov.sa/e-invoicing/developer-portal",
    "simulation": "https://gw-fatoora.zatca.gov.sa/e-invoicing/simulation",
    "production": "https://gw-fatoora.zatca.gov.sa/e-invoicing/core",
}
REPORTED, REPORTED_WITH_WARNINGS, REJECTED = "reported", "reported_with_warnings", "rejected"
REPORT_ATTEMPTS = 2
REPORT_RETRY_PAUSE_SECONDS = 0.5


def base_url() -> str:
    return (settings.ZATCA_BASE_URL or BASE_URLS[settings.ZATCA_ENVIRONMENT]).rstrip("/")


@dataclass(frozen=True)
class Credentials:
    """A CSID: the certificate token, its secret and the request id (compliance CSIDs need the last)."""

    binary_security_token: str
    secret: str
    request_id: str = ""

    @property
    def basic_auth(self) -> tuple[str, str]:
        return (self.binary_security_token, self.secret)


@dataclass(frozen=True)
class Result:
    status: str  # reported | reported_with_warnings | rejected
    http_status: int
    warnings: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    body: Any = None


def _messages(body: Any, kind: str) -> list[dict[str, Any]]:
    results = body.get("validationResults") if isinstance(body, dict) else None
    found = results.get(kind) if isinstance(results, dict) else None
    return [message for message in found if isinstance(message, dict)] if isinstance(found, list) else []


def _error_code(body: Any) -> str | None:
    errors = _messages(body, "errorMessages")
    if errors and isinstance(errors[0].get("code"), str):
        return errors[0]["code"]
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return body["code"]
    return None


def _post(operation: str, path: str, *, json: dict[str, Any], auth=None, headers=None) -> tuple[int, Any]:
    """One call; answers (status, body) for 2xx and for the statuses the caller classifies itself
    (400, 409), raises `ProviderError` for the rest."""
    failure_bodies: list[Any] = []

    def error_code(body: Any) -> str | None:
        failure_bodies.append(body)  # provider_call keeps only the code; a rejection needs the messages
        return _error_code(body)

    try:
        response = provider_call(
            provider=PROVIDER,
            operation=operation,
            method="POST",
            url=base_url() + path,
            read_timeout=settings.ZATCA_TIMEOUT_SECONDS,
            error_code=error_code,
            auth=auth,
            headers={"Accept-Version": "V2", "Accept-Language": "en", "Accept": "application/json"}
            | (headers or {}),
            json=json,
        )
    except ProviderError as error:
        if error.status in (400, 409):
            return error.status, failure_bodies[-1]
        if error.status == 401:
            error.code = "unauthorized"
        if error.status == 413:  # "send a smaller payload": resend later, it is still unreported
            error.retryable = True
        raise
    return response.status, response.body


def _credentials(status: int, body: Any) -> Credentials:
    if status == 200 and isinstance(body, dict) and body.get("binarySecurityToken") and body.get("secret"):
        return Credentials(
            binary_security_token=str(body["binarySecurityToken"]),
            secret=str(body["secret"]),
            request_id=str(body.get("requestID") or ""),
        )
    raise ProviderError(
        PROVIDER,
        "issued no CSID",
        retryable=False,
        status=status,
        code=_error_code(body) or "csid_refused",
    )


def request_compliance_csid(*, csr_base64: str, otp: str) -> Credentials:
    """``POST /compliance``: the compliance CSID for a CSR, with the taxpayer's portal OTP."""
    status, body = _post("compliance_csid", "/compliance", json={"csr": csr_base64}, headers={"OTP": otp})
    return _credentials(status, body)


def request_production_csid(*, credentials: Credentials) -> Credentials:
    """``POST /production/csids`` with the compliance CSID, once its compliance checks passed."""
    status, body = _post(
        "production_csid",
        "/production/csids",
        json={"compliance_request_id": credentials.request_id},
        auth=credentials.basic_auth,
    )
    return _credentials(status, body)


def _result(status: int, body: Any) -> Result:
    warnings, errors = _messages(body, "warningMessages"), _messages(body, "errorMessages")
    if status == 400:
        return Result(REJECTED, status, warnings, errors, body)
    if status == 202 or warnings:
        return Result(REPORTED_WITH_WARNINGS, status, warnings, errors, body)
    return Result(REPORTED, status, warnings, errors, body)  # 200, or 409: reported earlier


def _document_body(invoice_hash: str, uuid: str, xml: bytes) -> dict[str, str]:
    return {"invoiceHash": invoice_hash, "uuid": uuid, "invoice": base64.b64encode(xml).decode()}


def check_compliance(*, credentials: Credentials, invoice_hash: str, uuid: str, xml: bytes) -> Result:
    """``POST /compliance/invoices``: one of the sample documents onboarding must pass."""
    status, body = _post(
        "compliance_check",
        "/compliance/invoices",
        json=_document_body(invoice_hash, uuid, xml),
        auth=credentials.basic_auth,
    )
    return _result(status, body)


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, ProviderError) and error.retryable


def report(*, credentials: Credentials, invoice_hash: str, uuid: str, xml: bytes) -> Result:
    """``POST /invoices/reporting/single`` (``Clearance-Status: 0``) of one signed simplified document."""
    retrying = Retrying(
        retry=retry_if_exception(_is_retryable),
        stop=stop_after_attempt(REPORT_ATTEMPTS),
        wait=wait_fixed(REPORT_RETRY_PAUSE_SECONDS),
        reraise=True,
    )
    status, body = retrying(
        _post,
        "report",
        "/invoices/reporting/single",
        json=_document_body(invoice_hash, uuid, xml),
        auth=credentials.basic_auth,
        headers={"Clearance-Status": "0"},
    )
    return _result(status, body)
