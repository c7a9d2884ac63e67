from django.apps import AppConfig


class EinvoicingConfig(AppConfig):
    """ZATCA (Fatoora phase 2) e-invoicing: VAT arithmetic, UBL 2.1 documents, hash, XAdES signature, QR
    and the Fatoora client (docs/adr/0009-einvoicing-foundation.md). No models or endpoints yet."""

    name = "backend.einvoicing"
    label = "einvoicing"
    verbose_name = "E-invoicing"
