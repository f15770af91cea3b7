"""Questions customers ask before they order, answered from the shop's own data
(orders/questions.py): through the signed webhook and the worker, against a menu, hours and
delivery zones set here. Each row is a text as customers write it (English and Spanish,
typos and all) and a fact its answer must contain."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from orders import demo, soldout
from orders.models import Inquiry, Order, Quote, ShopAnswer, Topping
from telephony.segments import gsm_letters

NY = ZoneInfo("America/New_York")
FRIDAY_7PM = datetime(2026, 12, 4, 19, 0, tzinfo=NY)  # open 11:00-23:00 on Fridays
FRIDAY_9AM = datetime(2026, 12, 4, 9, 0, tzinfo=NY)
ME = "+14155550123"

OPEN = "open now until 11:00 PM"
CLOSE = "We close at 11:00 PM tonight"
WAIT = "pickup in about 20 minutes, delivery in about 40 minutes"
IN_AREA = "Yes, we deliver to 10001: $3 delivery fee, $15 minimum order"
AREA = "We deliver to 10001, 10002: $3 delivery fee, $15 minimum order"
ABIERTO = "estamos abiertos hasta las 11:00 PM"
CERRAMOS = "Hoy cerramos a las 11:00 PM"
ESPERA = "para recoger, unos 20 minutos; a domicilio, unos 40 minutos"

QUESTIONS = [
    # open now, hours
    ("are you open?", OPEN),
    ("Are you open", OPEN),
    ("r u open", OPEN),
    ("r u open rn", OPEN),
    ("are u guys open", OPEN),
    ("are you still open?", OPEN),
    ("hi are you open now?", OPEN),
    ("hey, you open tonight?", OPEN),
    ("open now?", OPEN),
    ("is the store open", OPEN),
    ("what are your hours", "Hours: Mon-Thu 11:00-22:00; Fri-Sat 11:00-23:00; Sun 12:00-21:00"),
    ("what r ur hours?", OPEN),
    ("hours?", OPEN),
    ("when do you open tomorrow", "Hours: Mon-Thu 11:00-22:00; Fri-Sat 11:00-23:00"),
    ("what time do you open", OPEN),
    ("Opening hours please", OPEN),
    ("¿están abiertos?", ABIERTO),
    ("estan abiertos", ABIERTO),
    ("hola, ¿está abierto?", ABIERTO),
    ("a que hora abren", ABIERTO),
    ("cual es su horario", ABIERTO),
    ("horario?", ABIERTO),
    # closing time
    ("what time do you close", CLOSE),
    ("What time do u close?", CLOSE),
    ("wat time do you guys close", CLOSE),
    ("when do you close tonight?", CLOSE),
    ("how late are you open", CLOSE),
    ("till what time are you open", CLOSE),
    ("closing time?", CLOSE),
    ("what time are you open until", CLOSE),
    ("¿a qué hora cierran?", CERRAMOS),
    ("a que hora cierran hoy", CERRAMOS),
    ("hasta que hora estan abiertos", CERRAMOS),
    ("hasta qué hora?", CERRAMOS),
    # the wait now
    ("how long is the wait", WAIT),
    ("how long is the wait right now?", WAIT),
    ("whats the wait time", WAIT),
    ("what's your wait tonight", WAIT),
    ("how long for delivery", WAIT),
    ("how long for pickup?", WAIT),
    ("how busy are you", WAIT),
    ("how long does delivery take", WAIT),
    ("¿cuánto tardan?", ESPERA),
    ("cuanto tiempo tardan en entregar", ESPERA),
    ("cuanto se tardan para recoger", ESPERA),
    ("cuál es el tiempo de espera", ESPERA),
    # the delivery area, fee and minimum
    ("do you deliver to 10001?", IN_AREA),
    ("Do you deliver to 10001", IN_AREA),
    ("do u deliver to 10001", IN_AREA),
    ("can you deliver to 10001?", IN_AREA),
    ("do you guys deliver to 12 Main St 10001", IN_AREA),
    ("do you deliver to 10009?", "Sorry, we don't deliver to 10009. We deliver to 10001, 10002"),
    ("do you deliver to 10009", "pickup is always welcome at 12 Main St"),
    ("do you deliver?", AREA),
    ("do you deliver to Oakland?", AREA),
    ("do you do delivery", AREA),
    ("whats the delivery fee", AREA),
    ("delivery minimum?", AREA),
    ("is there a minimum for delivery", AREA),
    ("how much is delivery", AREA),
    ("¿entregan a 10001?", "Sí, entregamos en 10001: envío $3, pedido mínimo $15"),
    ("hacen entregas a domicilio?", "Entregamos en 10001, 10002: envío $3, pedido mínimo $15"),
    ("cuanto cobran de envio", "envío $3, pedido mínimo $15"),
    ("entregan en 10009?", "no entregamos en 10009"),
    # prices
    ("how much is a large pepperoni", "A large Pepperoni is $16."),
    ("how much is a large pepperoni?", "A large Pepperoni is $16."),
    ("How much for a large pepperoni pizza", "A large Pepperoni is $16."),
    ("how much are large pepperonis", "A large Pepperoni is $16."),
    ("how much is a medium margherita", "A medium Margherita is $12."),
    ("how much is a small cheese pizza", "A small Cheese is $9."),
    ("hw much is the hawaiian", "Hawaiian: $11/14/17 (small/medium/large)."),
    ("how much is the bbq chicken pizza", "BBQ Chicken: $12/15/18"),
    ("how much for wings", "Chicken Wings (8): $9."),
    ("price of garlic bread", "Garlic Bread: $5."),
    ("how much is a coke", "Coke: $2.50."),
    ("how much is extra cheese", "Extra cheese adds $1.50/2/2.50"),
    ("how much for mushrooms on a large", "Mushrooms adds $2 to a pizza that size."),
    ("how much is gluten free crust", "Gluten-free adds $2/3/3"),
    ("what does a large meat feast cost", "A large Meat Feast is $18."),
    ("¿cuánto cuesta una pizza grande de pepperoni?", "Una Pepperoni grande cuesta $16."),
    ("cuanto cuesta la hawaiana", "Hawaiian: $11/14/17 (chica/mediana/grande)."),
    ("cuanto cuestan las alitas", "Chicken Wings (8): $9."),
    ("cuánto vale una mediana de queso", "Una Cheese mediana cuesta $11."),
    ("precio de la coca", "Coke: $2.50."),
    # what we have
    ("do you have gluten free crust?", "Yes, we have Gluten-free crust."),
    ("Do you have gluten-free crust", "Yes, we have Gluten-free crust."),
    ("do you guys have thin crust", "Yes, we have Thin crust."),
    ("do you have stuffed crust", "Yes, we have Stuffed crust crust."),
    ("do you have pineapple", "Yes, we have Pineapple."),
    ("do you have jalapenos?", "Yes, we have Jalapenos."),
    ("do you sell wings", "Yes, we have Chicken Wings (8)."),
    ("do you have salad", "Yes, we have Caesar Salad."),
    ("do you have hawaiian pizza?", "Yes, we have Hawaiian."),
    ("do you have vegan cheese", "Sorry, we don't have vegan cheese."),
    ("do you have vegan cheese?", "Text MENU for everything we make."),
    ("do you have beer", "Sorry, we don't have beer."),
    ("do you have calzones", "Sorry, we don't have calzones."),
    ("got any anchovies", "Sorry, we don't have anchovies."),
    ("is there a gluten free option", "Yes, we have Gluten-free crust."),
    ("¿tienen masa sin gluten?", "Sí, tenemos masa Gluten-free."),
    ("tienen piña?", "Sí, tenemos Pineapple."),
    ("tienen alitas", "Sí, tenemos Chicken Wings (8)."),
    ("hay pizza hawaiana?", "Sí, tenemos Hawaiian."),
    ("venden cerveza?", "Lo sentimos, no tenemos cerveza."),
    ("tienen queso vegano", "Lo sentimos, no tenemos queso vegano."),
]


@pytest.fixture
def shop(db, settings, monkeypatch):
    demo.seed(io.StringIO())
    settings.SHOP_HOURS = "Mon-Thu 11:00-22:00; Fri-Sat 11:00-23:00; Sun 12:00-21:00"
    settings.DELIVERY_ZIP_CODES = ["10001", "10002"]
    settings.DELIVERY_FEE = "3"
    settings.DELIVERY_MINIMUM = "15"
    settings.SHOP_ADDRESS = "12 Main St"
    settings.ORDER_PICKUP_MINUTES, settings.ORDER_DELIVERY_MINUTES = 20, 40
    at(monkeypatch, FRIDAY_7PM)


def at(monkeypatch, when):
    monkeypatch.setattr(timezone, "now", lambda: when)


@pytest.mark.parametrize(("text", "fact"), QUESTIONS)
def test_a_question_is_answered_from_the_shops_data(shop, sms, text, fact):
    (reply,) = sms(ME, text).replies

    assert gsm_letters(fact) in reply, reply  # texts write á as a (README "Languages")
    assert not Quote.objects.exists() and not Order.objects.exists()  # never an order
    assert not Inquiry.objects.exists()  # answered: nothing left for staff


SPANISH_FACTS = (ABIERTO, CERRAMOS, ESPERA, "Sí", "Una ", "Lo sentimos", "entregamos", "envío",
                 "chica/mediana/grande")  # fmt: skip


def test_the_table_is_as_long_as_the_issue_asks():
    spanish = [text for text, fact in QUESTIONS if any(w in fact for w in SPANISH_FACTS)]
    assert len(QUESTIONS) >= 80 and len(spanish) >= 20, (len(QUESTIONS), len(spanish))


def test_closed_the_answers_say_when_we_open(shop, sms, monkeypatch):
    at(monkeypatch, FRIDAY_9AM)

    (open_,) = sms(ME, "are you open?").replies
    (close,) = sms(ME, "what time do you close").replies
    (wait,) = sms(ME, "how long is the wait").replies

    assert open_.startswith("We're closed right now. We open at 11:00 AM.")
    assert close.startswith("We're closed right now. We open at 11:00 AM.")
    assert "We open at 11:00 AM; you can order now for later" in wait


def test_a_day_other_than_today_gets_the_hours_and_a_holiday_goes_to_staff(shop, sms):
    (sunday,) = sms(ME, "are you open on sunday?").replies
    (christmas,) = sms(ME, "is the shop open on christmas").replies

    assert sunday.startswith("Hours: Mon-Thu 11:00-22:00; Fri-Sat 11:00-23:00; Sun 12:00-21:00")
    assert "Thanks for your query" in christmas
    assert Inquiry.objects.count() == 1


def test_a_sold_out_topping_is_named_with_what_we_have_instead(shop, sms):
    soldout.mark("topping", Topping.objects.get(code="MUSH").pk, True)

    (reply,) = sms(ME, "do you have mushrooms?").replies

    assert reply.startswith("We have Mushrooms, but we're out of it tonight.")
    assert "We do have Extra cheese or Onions." in reply


def test_an_answered_question_leaves_a_waiting_quote_waiting(shop, sms):
    sms(ME, "1 medium pepperoni")

    (reply,) = sms(ME, "do you have gluten free crust?").replies
    sms(ME, "YES")

    assert reply.startswith("Yes, we have Gluten-free crust.")
    assert "Your earlier order (1x Pepperoni M, $13) still waits: YES places it." in reply
    order = Order.objects.get()
    assert [(i.name, i.modifiers) for i in order.items.all()] == [("Pepperoni", {})]


def test_a_question_with_an_order_is_an_order(shop, sms):
    (reply,) = sms(ME, "are you open? 2 large pepperoni for pickup").replies
    assert reply.startswith("Your order:") and Quote.objects.filter(state="pending").exists()


def test_staff_answers_what_the_data_cannot_in_either_language(shop, sms):
    ShopAnswer.objects.create(
        question="Parking", keywords="parking, park my car", keywords_es="estacionamiento",
        answer="Free parking behind the shop.", answer_es="Hay estacionamiento gratis atrás.",
    )  # fmt: skip

    (english,) = sms(ME, "is there parking nearby?").replies
    (spanish,) = sms("+14155550124", "¿tienen estacionamiento?").replies
    (other,) = sms("+14155550125", "can i pay with a gift card").replies

    assert english == "Free parking behind the shop."
    assert spanish == "Hay estacionamiento gratis atras."
    assert "Thanks for your query" in other  # nothing answers it: staff do
    assert Inquiry.objects.count() == 1


def test_a_caller_asking_on_the_phone_hears_the_answer(shop, twilio):
    from django.urls import reverse

    sid = "CA" + "8" * 32
    twilio.post(reverse("support:voice"), {"CallSid": sid, "From": ME, "CallStatus": "ringing"})
    heard = twilio.post(
        reverse("support:menu"),
        {"CallSid": sid, "From": ME, "SpeechResult": "what time do you close", "Confidence": "0.9"},
    ).content.decode()

    assert "We close at 11:00 PM tonight." in heard
    assert "<Gather" in heard  # and listens for the order


def test_staff_add_an_answer_in_the_admin(shop, admin_client, sms):
    from django.urls import reverse

    admin_client.post(
        reverse("admin:orders_shopanswer_add"),
        {"question": "Gift cards", "keywords": "gift card, gift cards", "keywords_es": "",
         "answer": "Yes! Gift cards at the counter.", "answer_es": "", "active": "on",
         "position": "0"},
    )  # fmt: skip

    assert sms(ME, "do you sell gift cards").replies == ["Yes! Gift cards at the counter."]


def test_staff_answers_come_before_not_on_our_menu(shop, sms):
    ShopAnswer.objects.create(
        question="Vegan", keywords="vegan", answer="Vegan cheese is back on Monday!"
    )

    assert sms(ME, "do you have vegan cheese").replies == ["Vegan cheese is back on Monday!"]
