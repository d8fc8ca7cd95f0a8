from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "keelplan.accounts"
    label = "accounts"
    verbose_name = "People and API tokens"
