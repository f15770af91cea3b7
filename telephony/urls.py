from django.urls import path

from . import views

app_name = "telephony"

urlpatterns = [
    path("sms/", views.inbound_sms, name="sms"),
    path("sms/status/", views.sms_status, name="sms-status"),
]
