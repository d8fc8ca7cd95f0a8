from django.apps import AppConfig


class ChangelogConfig(AppConfig):
    name = "keelplan.changelog"
    label = "changelog"
    verbose_name = "Change log"
