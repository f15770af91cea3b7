"""Root URLs."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("twilio/", include("telephony.urls")),
    path("twilio/voice/", include("support.urls")),
    path("staff/", include("pizzeria.board.urls")),
    path("dev/phone/", include("pizzeria.phone.urls")),
    path("", include("orders.urls")),
]
