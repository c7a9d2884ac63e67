"""Query filters of the salon lists (django-filter), documented in the OpenAPI schema from these classes."""

import django_filters
from django.db.models import Q, QuerySet

from backend.salons.models import Salon, StaffMember


class SalonFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the English or Arabic name."
    )
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")

    class Meta:
        model = Salon
        fields = ("search", "city")

    def filter_search(self, queryset: QuerySet[Salon], name: str, value: str) -> QuerySet[Salon]:
        return queryset.filter(Q(name__icontains=value) | Q(name_ar__icontains=value))


class StaffFilter(django_filters.FilterSet):
    service = django_filters.NumberFilter(
        field_name="staff_services__service_id", help_text="Only staff members who perform this service."
    )

    class Meta:
        model = StaffMember
        fields = ("service",)
