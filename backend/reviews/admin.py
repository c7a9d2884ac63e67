from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from backend.reviews.models import Review
from backend.reviews.services import review_set_hidden


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Read-only but for moderation: every change that moves a rating goes through the services, which
    keep the salon's and staff member's aggregates right."""

    list_display = ("id", "salon", "staff", "rating", "is_hidden", "created_at")
    list_filter = ("is_hidden", "rating")
    search_fields = ("comment", "salon__name", "staff__name")
    list_select_related = ("salon", "staff")
    actions = ("hide_reviews", "unhide_reviews")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Review | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Review | None = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser  # platform admins, as for the API

    def _set_hidden(self, request: HttpRequest, queryset: QuerySet[Review], *, hidden: bool) -> None:
        review_ids = list(queryset.values_list("pk", flat=True))
        for review_id in review_ids:
            review_set_hidden(review_id=review_id, hidden=hidden)
        message = _("%(count)d reviews updated.") % {"count": len(review_ids)}
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Hide the selected reviews (abusive)"), permissions=["moderate"])
    def hide_reviews(self, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        self._set_hidden(request, queryset, hidden=True)

    @admin.action(description=_("Show the selected reviews again"), permissions=["moderate"])
    def unhide_reviews(self, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        self._set_hidden(request, queryset, hidden=False)
