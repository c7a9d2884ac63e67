from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "backend.waitlist"
    label = "waitlist"

    def ready(self) -> None:
        from backend.accounts.deletion import register_account_deletion_hook
        from backend.accounts.export import register_personal_data_section
        from backend.core.freed_time import register_freed_time_hook
        from backend.waitlist.matching import freed_time_record
        from backend.waitlist.selectors import waitlist_personal_data
        from backend.waitlist.services import waitlist_delete_for_account

        register_account_deletion_hook(waitlist_delete_for_account)
        register_personal_data_section("waitlist", waitlist_personal_data)
        register_freed_time_hook(freed_time_record)
