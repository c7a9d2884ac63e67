"""Deploy checks (`manage.py check --deploy`, run by the release step): refuse to go live with settings
that are fine in development and dangerous in production."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def providers_are_real(app_configs, **kwargs) -> list[Error]:
    errors = []
    if settings.OTP_PROVIDER == "console":
        errors.append(Error("OTP_PROVIDER=console writes login codes to the log.", id="salon.E001"))
    if settings.SMS_PROVIDER == "console":
        errors.append(Error("SMS_PROVIDER=console sends no message to customers.", id="salon.E002"))
    uses = {settings.OTP_PROVIDER, settings.SMS_PROVIDER}
    if "authentica" in uses and not settings.AUTHENTICA_API_KEY:
        errors.append(Error("Authentica is chosen but AUTHENTICA_API_KEY is empty.", id="salon.E003"))
    if "unifonic" in uses and not settings.UNIFONIC_APP_SID:
        errors.append(Error("Unifonic is chosen but UNIFONIC_APP_SID is empty.", id="salon.E004"))
    if not settings.MOYASAR_SECRET_KEY:
        errors.append(Error("MOYASAR_SECRET_KEY is empty: no payment can be made.", id="salon.E005"))
    if not settings.MOYASAR_WEBHOOK_SECRET:
        errors.append(Error("MOYASAR_WEBHOOK_SECRET is empty: every webhook is refused.", id="salon.E006"))
    return errors
