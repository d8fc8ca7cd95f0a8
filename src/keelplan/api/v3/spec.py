"""The v3 dialect's own OpenAPI description (being written)."""

urlpatterns: list = []
