"""The app's URLs plus the baseline the benchmarks compare against."""

from django.urls import include, path

from telephony.models import Message
from telephony.webhooks import MessagingResponse, twilio_webhook, twiml_response

CONSTANT = str(MessagingResponse().message("Thanks! We got your message."))


@twilio_webhook
def bare_sms(request):
    """The baseline of issue 27: checks the signature exactly as the real webhook does,
    stores the text with the same durability (one INSERT, autocommit, the same database
    settings), and answers constant TwiML. Nothing else: no dedup, no spool, no wake-up."""
    Message.objects.create(
        direction=Message.Direction.INBOUND,
        from_number=request.POST.get("From", ""),
        to_number=request.POST.get("To", ""),
        body=request.POST.get("Body", ""),
        sid=request.POST.get("MessageSid") or None,
        status=Message.Status.RECEIVED,
    )
    return twiml_response(CONSTANT)


urlpatterns = [
    path("bench/bare-sms/", bare_sms),
    path("", include("pizzeria.urls")),
]
