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
