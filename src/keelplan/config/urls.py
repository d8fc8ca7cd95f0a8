"""The URL map: each API dialect is mounted at its own prefix; the schema and admin beside them."""

from django.contrib import admin
from django.urls import include, path

from keelplan.api.beebole.views import ServiceView
from keelplan.api.v1.schema import SchemaView, SwaggerView
from keelplan.api.v1.views import TokenObtainView, TokenRefreshView
from keelplan.api.v3.root import RootView

# The v1 dialect: TruePPM's token endpoints (v1 views, v1's errors) sit outside /api/v1/, where TruePPM's clients
# look for them. /api/schema/ describes these and nothing else; every other dialect describes itself.
V1_PATTERNS = [
    path("api/token/", TokenObtainView.as_view(), name="token_obtain_pair"),
    path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("api/v1/", include("keelplan.api.v1.urls")),
]

urlpatterns = [
    *V1_PATTERNS,
    path("api/v3", RootView.as_view(), name="v3-root"),
    path("api/v3/", include("keelplan.api.v3.urls")),
    # Beebole's one endpoint, exactly this path: OpenProject v2's resources live under /api/v2/<name>.<format>.
    path("api/v2", ServiceView.as_view(), name="beebole"),
    path("api/schema/", SchemaView.as_view(patterns=V1_PATTERNS), name="schema"),
    path("api/schema/swagger-ui/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
]
