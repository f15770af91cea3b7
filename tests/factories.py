"""factory-boy factories for the whole project."""

import factory

from telephony.models import Message


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    direction = Message.Direction.OUTBOUND
    from_number = "+15005550006"
    to_number = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    body = "Your order is ready"
    status = Message.Status.QUEUED


# --- support ---

from support.models import Agent, SupportCall, Voicemail  # noqa: E402


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    name = factory.Sequence(lambda n: f"Agent {n}")
    phone = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")
    on_shift = True
    priority = 10


class SupportCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportCall

    caller_number = factory.Sequence(lambda n: f"+1415444{n % 10000:04d}")
    call_sid = factory.Sequence(lambda n: f"CA{n:032x}")
    conference_name = factory.LazyAttribute(lambda o: f"support-{o.call_sid}")


class VoicemailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voicemail

    call = factory.SubFactory(SupportCallFactory, status=SupportCall.Status.COMPLETED)
    recording_url = factory.Sequence(
        lambda n: f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE{n:032x}"
    )
    duration = 12
