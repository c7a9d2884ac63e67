from django.apps import AppConfig


class EinvoicingConfig(AppConfig):
    """ZATCA (Fatoora phase 2) e-invoicing: VAT arithmetic, UBL 2.1 documents, hash, XAdES signature, QR,
    the Fatoora client (docs/adr/0009-einvoicing-foundation.md), and the wiring: tax profiles, units,
    documents issued on payments' hooks and reported by the workers (docs/adr/0011-einvoicing-wiring.md)."""

    name = "backend.einvoicing"
    label = "einvoicing"
    verbose_name = "E-invoicing"

    def ready(self) -> None:
        from backend.einvoicing.issuing import document_issue_for_payment, document_issue_for_refund
        from backend.einvoicing.profiles import tax_profile_set
        from backend.einvoicing.serializers import tax_settings_input_field, tax_settings_output_field
        from backend.payments.hooks import register_payment_received_hook, register_refund_landed_hook
        from backend.salons.extensions import register_settings_section

        register_payment_received_hook(document_issue_for_payment)
        register_refund_landed_hook(document_issue_for_refund)
        # `tax` in manage/salons/{id}/settings/: merged into the saved profile, which must end up complete.
        register_settings_section(
            "tax", output=tax_settings_output_field, input=tax_settings_input_field, save=tax_profile_set
        )
