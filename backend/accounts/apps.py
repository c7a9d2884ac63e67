from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backend.accounts"
    label = "accounts"

    def ready(self) -> None:
        from backend.accounts import schema, selectors  # noqa: F401 (schema registers an OpenAPI extension)
        from backend.accounts.export import register_personal_data_section

        register_personal_data_section("profile", selectors.user_personal_data_profile)
        register_personal_data_section("login_codes", selectors.user_personal_data_login_codes)
        register_personal_data_section("sessions", selectors.user_personal_data_sessions)
