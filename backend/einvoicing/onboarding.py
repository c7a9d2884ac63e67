"""Onboarding a salon's unit with ZATCA, synchronously (the manager waits, within the client's timeouts):
key and CSR, the compliance CSID (with the portal OTP), the compliance checks of a simplified invoice,
credit note and debit note, then the production CSID. The key and the secrets are stored encrypted.

No lock is held during the calls (issuing locks the unit row and must not wait on ZATCA); the result is
saved only if the unit is still not onboarded, so two concurrent calls cannot both win."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.core.errors import ApplicationError
from backend.core.http import ProviderError
from backend.einvoicing import client, hashing, keys, signing, ubl
from backend.einvoicing.issuing import enqueue_report
from backend.einvoicing.models import TaxProfile, Unit, UnitStatus
from backend.einvoicing.profiles import seller_profile
from backend.salons.models import Salon

logger = logging.getLogger(__name__)

SOLUTION_NAME = "SalonBooking"
SOLUTION_MODEL = "api"
BUSINESS_CATEGORY = "Beauty salon"
SAMPLE_KINDS = (ubl.Kind.INVOICE, ubl.Kind.CREDIT_NOTE, ubl.Kind.DEBIT_NOTE)


def _failed(message, messages: list[dict] | None = None, *, status: int = 400) -> ApplicationError:
    return ApplicationError(
        "einvoicing_onboarding_failed", message, status=status, extra={"messages": messages or []}
    )


def _already_onboarded() -> ApplicationError:
    return ApplicationError(
        "einvoicing_already_onboarded", _("This salon is already onboarded with ZATCA."), status=409
    )


def _subject(salon: Salon, profile: TaxProfile) -> keys.CsrSubject:
    return keys.CsrSubject(
        common_name=f"salon-{salon.pk}",
        organization=profile.legal_name,
        organization_unit=(salon.name or profile.city)[:64],
        vat_number=profile.vat_number,
        solution_name=SOLUTION_NAME,
        model=SOLUTION_MODEL,
        serial=str(uuid.uuid4()),
        registered_address=f"{profile.building} {profile.street}, {profile.city}"[:127],
        business_category=BUSINESS_CATEGORY,
    )


def sample_document(kind: ubl.Kind, seller: ubl.SellerProfile, rate: Decimal) -> ubl.Document:
    """A compliance-check sample of `kind`: one line of 115.00 SAR, counter 1, the first PIH."""
    note = kind is not ubl.Kind.INVOICE
    return ubl.Document(
        kind=kind,
        number=f"COMPLIANCE-{kind.value}",
        uuid=uuid.uuid4(),
        issued_at=datetime.now(UTC),
        counter=1,
        previous_hash=hashing.FIRST_PIH,
        seller=seller,
        lines=(ubl.Line("Compliance check", 11500, rate),),
        payment_means=ubl.PaymentMeans.CASH,
        billing_reference="COMPLIANCE-invoice" if note else None,
        reason="Compliance check" if note else None,
    )


def _compliance_checks(credentials: client.Credentials, identity: signing.SigningIdentity, profile) -> None:
    seller = seller_profile(profile)
    for kind in SAMPLE_KINDS:
        document = sample_document(kind, seller, profile.vat_rate_percent)
        signed = signing.sign_document(ubl.build(document), identity)
        result = client.check_compliance(
            credentials=credentials, invoice_hash=signed.invoice_hash, uuid=str(document.uuid), xml=signed.xml
        )
        if result.status == client.REJECTED:
            raise _failed(_("ZATCA refused a compliance check."), result.errors)


def unit_onboard(*, salon: Salon, otp: str) -> Unit:
    profile = TaxProfile.objects.filter(salon=salon).first()
    if profile is None:
        raise _failed(_("Set the salon's tax profile before onboarding."))
    unit, _created = Unit.objects.get_or_create(salon=salon)
    if unit.status == UnitStatus.ONBOARDED:
        raise _already_onboarded()
    environment = settings.ZATCA_ENVIRONMENT
    key = keys.generate_private_key()
    try:
        encrypted_key = keys.encrypt_private_key(key)  # before calling ZATCA: it could not be stored
    except ImproperlyConfigured as error:
        logger.error("onboarding salon %s: %s", salon.pk, error)
        raise _failed(_("E-invoicing is not configured on this server."), status=503) from error
    csr = keys.build_csr(key, _subject(salon, profile), environment)
    try:
        compliance = client.request_compliance_csid(csr_base64=keys.csr_base64(csr), otp=otp)
        certificate, text = keys.certificate_from_token(compliance.binary_security_token)
        identity = signing.SigningIdentity(private_key=key, certificate=certificate, certificate_text=text)
        _compliance_checks(compliance, identity, profile)
        production = client.request_production_csid(credentials=compliance)
        keys.certificate_from_token(production.binary_security_token)
    except ProviderError as error:
        logger.warning("onboarding salon %s failed: %r", salon.pk, error)
        messages = [{"code": error.code or "", "message": error.message}]
        raise _failed(_("ZATCA did not complete the onboarding."), messages) from error
    except keys.KeyMaterialError as error:
        raise _failed(
            _("ZATCA answered with a certificate we cannot read."), [{"message": str(error)}]
        ) from error
    saved = Unit.objects.filter(pk=unit.pk, status=UnitStatus.NOT_ONBOARDED).update(
        environment=environment,
        status=UnitStatus.ONBOARDED,
        private_key=encrypted_key,
        compliance_token=compliance.binary_security_token,
        compliance_secret=keys.encrypt_secret(compliance.secret),
        compliance_request_id=compliance.request_id,
        production_token=production.binary_security_token,
        production_secret=keys.encrypt_secret(production.secret),
        onboarded_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if not saved:
        raise _already_onboarded()
    enqueue_report(unit.pk)  # documents issued while waiting are stamped and reported now
    return Unit.objects.get(pk=unit.pk)
