from django.apps import AppConfig


class TimesheetsConfig(AppConfig):
    name = "keelplan.timesheets"
    label = "timesheets"
