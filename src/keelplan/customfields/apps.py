from django.apps import AppConfig


class CustomfieldsConfig(AppConfig):
    name = "keelplan.customfields"
    label = "customfields"
    verbose_name = "Custom fields"
