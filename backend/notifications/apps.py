from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "backend.notifications"
    label = "notifications"

    def ready(self) -> None:
        from backend.accounts.deletion import register_account_deletion_hook
        from backend.accounts.export import register_personal_data_section
        from backend.notifications.devices import device_personal_data, devices_delete_for_account
        from backend.notifications.templates import MESSAGES
        from backend.providers.registry import providers_validate

        # A typo in a provider setting stops every process at start, not every message at run time.
        providers_validate(messages=MESSAGES)
        register_account_deletion_hook(devices_delete_for_account)
        register_personal_data_section("devices", device_personal_data)
