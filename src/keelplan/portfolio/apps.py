from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "keelplan.portfolio"
    label = "portfolio"
