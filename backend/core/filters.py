"""Query filter building blocks shared by the apps' django-filter FilterSets."""

import django_filters
from django import forms


class IdFilter(django_filters.NumberFilter):
    """An id: whole numbers only (NumberFilter's own field takes decimals, so `?staff=0.5` would pass)."""

    field_class = forms.IntegerField
