from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "keelplan.calendars"
    label = "calendars"
