from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularSwaggerView

from backend.core.exceptions import json_not_found
from backend.core.metrics import metrics_view
from backend.core.views import HealthView, SchemaView

urlpatterns = [
    path("health/", HealthView.as_view(), name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    # Unknown API paths answer the JSON error body even with DEBUG on (Django's debug page is HTML), and a
    # 404 whatever the method: without csrf_exempt a POST here was refused 403 csrf_failed instead.
    re_path(r"^api/", csrf_exempt(json_not_found)),
    # Uploaded photos, in DEBUG only (static() adds nothing otherwise): production serves them from the
    # storage itself or a CDN in front of it, never through Django.
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]

# No HTML error page, ever: Django's own error answers use the contract's JSON body too.
handler400 = "backend.core.exceptions.json_bad_request"
handler403 = "backend.core.exceptions.json_permission_denied"
handler404 = "backend.core.exceptions.json_not_found"
handler500 = "backend.core.exceptions.json_server_error"
