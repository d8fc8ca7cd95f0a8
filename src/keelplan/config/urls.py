"""The URL map: each API dialect is mounted at its own prefix; the schema and admin beside them."""

from django.contrib import admin
from django.urls import include, path

from keelplan.api.v1.schema import SchemaView, SwaggerView
from keelplan.api.v1.views import TokenObtainView, TokenRefreshView

urlpatterns = [
    # TruePPM's token endpoints: v1 views (v1's errors), outside /api/v1/ where TruePPM's clients look for them.
    path("api/token/", TokenObtainView.as_view(), name="token_obtain_pair"),
    path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("api/v1/", include("keelplan.api.v1.urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/schema/swagger-ui/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
]
