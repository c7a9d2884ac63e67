from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "backend.reviews"
    label = "reviews"

    def ready(self) -> None:
        from backend.accounts.deletion import register_account_deletion_hook
        from backend.accounts.export import register_personal_data_section
        from backend.reviews.selectors import review_personal_data
        from backend.reviews.services import reviews_anonymise_for_deleted_account

        register_account_deletion_hook(reviews_anonymise_for_deleted_account)
        register_personal_data_section("reviews", review_personal_data)
