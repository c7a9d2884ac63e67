import django_filters

from backend.core.filters import IdFilter
from backend.reviews.models import Review
from backend.reviews.services import reviews_of_staff


class ReviewFilter(django_filters.FilterSet):
    staff = IdFilter(
        method="of_staff",
        help_text="Only reviews of this staff member: of visits with an item of theirs (any of its items).",
    )

    class Meta:
        model = Review
        fields = ("staff",)

    def of_staff(self, queryset, name: str, value):
        # The reviews behind the staff member's rating (a visit's review rates each item's staff member),
        # not only those whose visit's first item was theirs (the review's own `staff`).
        return queryset & reviews_of_staff(staff_id=value)
