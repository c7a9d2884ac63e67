"""Fake ZATCA Fatoora (e-invoicing phase 2): onboarding and reporting, checking what it receives.

Routes under ``/e-invoicing/simulation`` (``ZATCA_BASE_URL`` = ``url``): ``POST /compliance`` (header
``OTP``, default ``123345``; body ``{"csr"}``: base64 of a PEM CSR with a valid signature),
``POST /compliance/invoices``, ``POST /production/csids`` and ``POST /invoices/reporting/single``. Every call
needs ``Accept-Version: V2`` (else 406); all but the first Basic auth ``binarySecurityToken:secret``.

Certificates come from a CA the fake generates at start: it signs the CSR's public key, and the
``binarySecurityToken`` is base64 of the base64 DER, as ZATCA's is. A documents call checks, with
`backend.einvoicing.verify`: the XML parses; ``invoiceHash`` and ``uuid`` match the document; the signature,
its digests and the QR (hash, signature, public key, CA signature, seller, totals) match; the signing
certificate is the one of the credential used; PIH equals the hash of the last document this certificate
sent and ICV follows its counter by one (first: FIRST_PIH and any counter). Answers: 200 REPORTED; 202 with a
``BR-KSA-98`` warning when the issue time is over 24 h old; 400 NOT_REPORTED with ``errorMessages``; 409 when
the uuid was reported already; 401 bad credentials. The chain advances on every document whose stamp and
chain checks pass, rejected for other reasons or not (ZATCA chains to rejected documents too).

Choices where ZATCA documents nothing: compliance checks do not chain (each sample stands alone);
a production CSID needs an invoice (388), a credit note (381) and a debit note (383) passed, else 400
``Missing-ComplianceSteps``. Faults as in every fake: ``down``, ``fail_next(n, status)``, ``latency_ms``,
``timeout_next``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from backend.einvoicing import hashing, verify

from .base import FakeProvider, Request, Response

DEFAULT_OTP = "123345"
REQUIRED_COMPLIANCE_TYPES = ("388", "381", "383")
LATE_AFTER = timedelta(hours=24)


@dataclass
class _Credential:
    token: str
    secret: str
    certificate: x509.Certificate
    kind: str  # "compliance" | "production"
    request_id: str
    passed: set[str] = field(default_factory=set)  # compliance: type codes that passed


@dataclass
class _Chain:
    last_hash: str = hashing.FIRST_PIH
    last_counter: int | None = None


class FakeFatoora(FakeProvider):
    name = "fatoora"
    prefix = "/e-invoicing/simulation"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, otp: str = DEFAULT_OTP, **options: Any):
        super().__init__(host, port, **options)
        self.otp = otp
        self.ca_key = ec.generate_private_key(ec.SECP256K1())
        now = datetime.now(UTC)
        self.ca_name = x509.Name(
            [
                x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "local"),
                x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "fake"),
                x509.NameAttribute(NameOID.COMMON_NAME, "FAKE-ZATCA-SubCA"),
            ]
        )
        self.ca_certificate = (
            x509.CertificateBuilder()
            .subject_name(self.ca_name)
            .issuer_name(self.ca_name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )
        self._credentials: dict[str, _Credential] = {}
        self._chains: dict[int, _Chain] = {}  # by certificate serial
        self._reported: dict[str, dict[str, Any]] = {}  # uuid -> the document's record
        self.add_route("POST", "/compliance", self._compliance)
        self.add_route("POST", "/compliance/invoices", self._compliance_invoice)
        self.add_route("POST", "/production/csids", self._production_csid)
        self.add_route("POST", "/invoices/reporting/single", self._report)
        self.add_control_route("GET", "/documents", lambda request: Response(200, self.documents()))

    # -- provider hooks ----------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        if status == 401:
            return {"timestamp": utc_millis(), "status": 401, "error": "Unauthorized", "message": ""}
        return {"category": "HTTP-Errors", "code": str(status), "message": message}

    def check_auth(self, request: Request) -> Response | None:
        if request.headers.get("accept-version") != "V2":
            return Response(
                406, self.error_body(406, "This Version is not supported or not provided in the header.")
            )
        return None

    def _reset_state(self) -> None:
        self._credentials.clear()
        self._chains.clear()
        self._reported.clear()

    # -- Python API for tests ----------------------------------------------------------------------

    def documents(self) -> list[dict[str, Any]]:
        """Reported documents, oldest first: uuid, hash, counter, type, status."""
        with self._lock:
            return copy.deepcopy(list(self._reported.values()))

    # -- routes --------------------------------------------------------------------------------------

    def _issue(self, public_key: ec.EllipticCurvePublicKey, subject: x509.Name, kind: str) -> _Credential:
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.ca_name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365))
            .sign(self.ca_key, hashes.SHA256())
        )
        text = base64.b64encode(certificate.public_bytes(Encoding.DER)).decode()
        credential = _Credential(
            token=base64.b64encode(text.encode()).decode(),
            secret=secrets.token_urlsafe(24),
            certificate=certificate,
            kind=kind,
            request_id=str(secrets.randbelow(10**13)),
        )
        self._credentials[credential.token] = credential
        return credential

    @staticmethod
    def _csid_body(credential: _Credential) -> dict[str, Any]:
        return {
            "requestID": int(credential.request_id),
            "dispositionMessage": "ISSUED",
            "binarySecurityToken": credential.token,
            "secret": credential.secret,
            "tokenType": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3",
            "errors": None,
        }

    def _authenticated(self, request: Request, kind: str) -> _Credential | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            token, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:
            return None
        with self._lock:
            credential = self._credentials.get(token)
        if scheme.lower() != "basic" or credential is None or credential.kind != kind:
            return None
        return credential if secrets.compare_digest(credential.secret, secret) else None

    def _compliance(self, request: Request) -> Response:
        if request.headers.get("otp") != self.otp:
            return Response(400, {"code": "Invalid-OTP", "message": "The provided OTP is invalid"})
        try:
            csr = x509.load_pem_x509_csr(base64.b64decode(request.body["csr"], validate=True))
        except (TypeError, KeyError, ValueError, binascii.Error):
            return Response(400, {"code": "Invalid-CSR", "message": "The provided CSR is invalid"})
        if not csr.is_signature_valid or not isinstance(csr.public_key(), ec.EllipticCurvePublicKey):
            return Response(400, {"code": "Invalid-CSR", "message": "The CSR signature is invalid"})
        with self._lock:
            credential = self._issue(csr.public_key(), csr.subject, "compliance")
        return Response(200, self._csid_body(credential))

    def _production_csid(self, request: Request) -> Response:
        credential = self._authenticated(request, "compliance")
        if credential is None:
            return Response(401, self.error_body(401, ""))
        if (
            not isinstance(request.body, dict)
            or str(request.body.get("compliance_request_id")) != credential.request_id
        ):
            return Response(
                400, {"code": "Invalid-Request-ID", "message": "compliance_request_id is unknown"}
            )
        missing = [code for code in REQUIRED_COMPLIANCE_TYPES if code not in credential.passed]
        if missing:
            return Response(
                400, {"code": "Missing-ComplianceSteps", "message": f"Missing compliance steps: {missing}"}
            )
        with self._lock:
            production = self._issue(
                credential.certificate.public_key(), credential.certificate.subject, "production"
            )
        return Response(200, self._csid_body(production))

    def _compliance_invoice(self, request: Request) -> Response:
        credential = self._authenticated(request, "compliance")
        if credential is None:
            return Response(401, self.error_body(401, ""))
        status, body, checked = self._check(request, credential, chain=None)
        if status < 300 and checked is not None:
            with self._lock:
                credential.passed.add(checked.type_code)
        return Response(status, body)

    def _report(self, request: Request) -> Response:
        credential = self._authenticated(request, "production")
        if credential is None:
            return Response(401, self.error_body(401, ""))
        with self._lock:  # one document at a time per fake: the chain checks must see a settled state
            chain = self._chains.setdefault(credential.certificate.serial_number, _Chain())
            status, body, checked = self._check(request, credential, chain=chain)
            if status < 300 and checked is not None:
                self._reported[checked.uuid] = {
                    "uuid": checked.uuid,
                    "invoice_hash": checked.invoice_hash,
                    "counter": checked.counter,
                    "type_code": checked.type_code,
                    "status": "REPORTED",
                }
        return Response(status, body)

    # -- the validator ---------------------------------------------------------------------------------

    def _check(self, request: Request, credential: _Credential, chain: _Chain | None):
        body = request.body if isinstance(request.body, dict) else {}
        try:
            xml = base64.b64decode(str(body.get("invoice", "")), validate=True)
        except (ValueError, binascii.Error):
            xml = b""
        checked = verify.verify_document(xml)
        errors = [(problem.code, problem.message) for problem in checked.problems]
        if not errors and checked.uuid in self._reported and chain is not None:
            return (
                409,
                _validation(
                    [],
                    [],
                    [("Duplicate", "Invoice was already Reported successfully earlier.")],
                    "NOT_REPORTED",
                ),
                None,
            )
        if body.get("invoiceHash") != checked.invoice_hash:
            errors.append(
                (
                    "invalid-invoice-hash",
                    "The invoice hash API body does not match the (calculated) Hash of the XML",
                )
            )
        if body.get("uuid") != checked.uuid:
            errors.append(("invalid-uuid", "The uuid in the body does not match the document's cbc:UUID"))
        if checked.certificate is not None and checked.certificate != credential.certificate:
            errors.append(("certificate-mismatch", "The document is not signed with this CSID's certificate"))
        stamp_ok = all(code.endswith("QRCODE_INVALID") for code, _ in errors)
        if chain is not None:
            chain_errors = _chain_problems(chain, checked)
            if stamp_ok and not chain_errors:
                chain.last_hash, chain.last_counter = checked.invoice_hash, int(checked.counter)
            errors += chain_errors
        if errors:
            return 400, _validation([], [], errors, "NOT_REPORTED"), checked
        warnings = []
        issued = _issued_at(xml)
        if issued is not None and datetime.now(UTC) - issued > LATE_AFTER:
            warnings.append(
                ("BR-KSA-98", "The simplified invoice was not submitted within 24 hours of issuance")
            )
        info = [("XSD_ZATCA_VALID", "Complied with UBL 2.1 standards in line with ZATCA specifications")]
        return (202 if warnings else 200), _validation(info, warnings, [], "REPORTED"), checked


def _chain_problems(chain: _Chain, checked: verify.Verified) -> list[tuple[str, str]]:
    problems = []
    if checked.previous_hash != chain.last_hash:
        problems.append(("invalid-previous-invoice-hash", "PIH is not the hash of the previous document"))
    counter = int(checked.counter) if checked.counter.isdigit() else None
    expected = None if chain.last_counter is None else chain.last_counter + 1
    if counter is None or (expected is not None and counter != expected):
        problems.append(("invalid-invoice-counter", f"ICV must be {expected or 'a positive integer'}"))
    return problems


def _issued_at(xml: bytes) -> datetime | None:
    checked_root = verify.ubl.parse(xml)
    text = checked_root.xpath("string(cbc:IssueDate)", namespaces=verify.ubl.XPATH_NS)
    time = checked_root.xpath("string(cbc:IssueTime)", namespaces=verify.ubl.XPATH_NS)
    try:
        return datetime.fromisoformat(f"{text}T{time}").replace(tzinfo=UTC)
    except ValueError:
        return None


def _messages(kind: str, status: str, items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "type": kind,
            "code": code,
            "category": "KSA" if kind != "INFO" else "XSD validation",
            "message": message,
            "status": status,
        }
        for code, message in items
    ]


def _validation(info, warnings, errors, reporting_status: str) -> dict[str, Any]:
    status = "ERROR" if errors else "WARNING" if warnings else "PASS"
    return {
        "validationResults": {
            "infoMessages": _messages("INFO", "PASS", info),
            "warningMessages": _messages("WARNING", "WARNING", warnings),
            "errorMessages": _messages("ERROR", "ERROR", errors),
            "status": status,
        },
        "reportingStatus": reporting_status,
        "clearanceStatus": None,
    }


def utc_millis() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
