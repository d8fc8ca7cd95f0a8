from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "keelplan.scheduling"
    label = "scheduling"

    def ready(self):
        from keelplan.scheduling.services import changes_recorded
        from keelplan.changelog.services import on_change

        on_change(changes_recorded)
