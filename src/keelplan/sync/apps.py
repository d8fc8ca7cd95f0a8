from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "keelplan.sync"
    label = "sync"
