from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backend.accounts"
    label = "accounts"

    def ready(self) -> None:
        from backend.accounts import schema, selectors  # noqa: F401 (schema registers an OpenAPI extension)
        from backend.accounts.deletion import register_account_deletion_hook
        from backend.accounts.export import register_personal_data_section
        from backend.accounts.social import social_identities_unlink

        register_personal_data_section("profile", selectors.user_personal_data_profile)
        register_personal_data_section("login_codes", selectors.user_personal_data_login_codes)
        register_personal_data_section("sessions", selectors.user_personal_data_sessions)
        register_personal_data_section("social_identities", selectors.user_personal_data_social_identities)
        register_account_deletion_hook(social_identities_unlink)
