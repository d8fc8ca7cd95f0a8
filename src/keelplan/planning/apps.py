from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "keelplan.planning"
    label = "planning"
