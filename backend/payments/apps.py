from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "backend.payments"
    label = "payments"

    def ready(self) -> None:
        from backend.accounts.export import register_personal_data_section
        from backend.payments.selectors import payment_personal_data

        register_personal_data_section("payments", payment_personal_data)
