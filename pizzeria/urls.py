"""Root URLs."""

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from . import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("twilio/", include("telephony.urls")),
    path("twilio/", include("support.urls")),  # /twilio/voice/…
    path("staff/reports/", include("staff.reports.urls")),
    path("staff/", include("staff.board.urls")),
    path("", include("payments.urls")),  # /stripe/webhook/, /o/<token>/pay/
    path("", include("orders.urls")),
]


# --- Promotions: campaign pictures, fetched by Twilio under PUBLIC_BASE_URL + MEDIA_URL.
# Turn SERVE_MEDIA off when the web server serves MEDIA_ROOT at MEDIA_URL itself.
def serve_media(request, path):
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    media = rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$"
    urlpatterns.insert(0, re_path(media, serve_media))

if apps.is_installed("simulator"):
    urlpatterns.insert(-1, path("dev/phone/", include("simulator.urls")))
