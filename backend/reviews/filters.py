import django_filters

from backend.reviews.models import Review


class ReviewFilter(django_filters.FilterSet):
    staff = django_filters.NumberFilter(field_name="staff_id", help_text="Only reviews of this staff member.")

    class Meta:
        model = Review
        fields = ("staff",)
