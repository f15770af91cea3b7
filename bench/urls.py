"""The app's URLs plus the baseline the benchmarks compare against."""

from django.urls import include, path

from telephony.webhooks import MessagingResponse, twilio_webhook, twiml_response

CONSTANT = str(MessagingResponse().message("Thanks! We got your message."))


@twilio_webhook
def bare_sms(request):
    """Checks the signature exactly as the real webhook does, then answers constant TwiML."""
    return twiml_response(CONSTANT)


urlpatterns = [
    path("bench/bare-sms/", bare_sms),
    path("", include("pizzeria.urls")),
]
