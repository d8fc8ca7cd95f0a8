from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "keelplan.resources"
    label = "resources"
