from django.apps import AppConfig


class SalonsConfig(AppConfig):
    name = "backend.salons"
    label = "salons"
