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


# --- orders ---
from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.utils import timezone  # noqa: E402

from orders.models import (  # noqa: E402
    Customer,
    Fulfilment,
    MenuItem,
    MenuPrice,
    Order,
    OrderItem,
)


class MenuItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MenuItem
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"IT{n}")
    name = factory.Sequence(lambda n: f"Item {n}")
    category = MenuItem.Category.PIZZA


class MenuPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MenuPrice

    item = factory.SubFactory(MenuItemFactory)
    size = ""
    price = Decimal("10.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("phone",)

    phone = factory.Sequence(lambda n: f"+1415333{n % 10000:04d}")


class OrderFactory(factory.django.DjangoModelFactory):
    """An order as placed (status `received` unless given), with one large pepperoni."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    fulfilment = Fulfilment.PICKUP
    total = Decimal("16.00")
    promised_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=20))

    @factory.post_generation
    def items(order, create, extracted, **kwargs):
        if create:
            OrderItem.objects.create(
                order=order, name="Pepperoni", size="L", quantity=1, unit_price=Decimal("16.00")
            )


class ToppingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Topping"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n}")
    name = factory.Sequence(lambda n: f"Topping {n}")
    price_small, price_medium, price_large = Decimal("1"), Decimal("1.50"), Decimal("2")


class CrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.Crust"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"C{n}")
    name = factory.Sequence(lambda n: f"Crust {n}")


class ConsentFactory(factory.django.DjangoModelFactory):
    """Consent to offers, given by texting DEALS."""

    class Meta:
        model = "campaigns.Consent"

    customer = factory.SubFactory(CustomerFactory)
    phone = factory.LazyAttribute(lambda c: str(c.customer.phone))
    given_at = factory.LazyFunction(timezone.now)
    source = "keyword"
    how = "DEALS"
    text_shown = "DEALS"
