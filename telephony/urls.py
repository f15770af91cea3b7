from . import views
from .webhooks import webhook_paths

app_name = "telephony"

urlpatterns = webhook_paths(
    ("sms/", views.inbound_sms, "sms"),
    ("sms/status/", views.sms_status, "sms-status"),
)
