from django.apps import AppConfig


class PizzeriaConfig(AppConfig):
    name = "pizzeria"
    verbose_name = "Pizzeria"
