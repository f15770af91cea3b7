"""A customer who writes in Spanish is answered in Spanish from then on: texts, stage and late
texts, the promotions offer, the support line's voice and the order page. Texts are read as the
customer reads them: á í ó ú arrive as a i o u (GSM-7, README "Languages")."""

import io
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import xmlschema
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from orders import demo, services
from orders.models import Customer, Fulfilment, Order, Status
from support import notices
from telephony.models import Message
from telephony.segments import analyse

from .factories import CustomerFactory, OrderFactory
from .test_orders_replies import TUESDAY_2PM
from .test_orders_staff import change_url, form_data, move_url
from .test_support_line import XSD, Line

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
ROSA = "+14155550142"


@pytest.fixture
def menu(db):
    demo.seed(io.StringIO())


@pytest.fixture
def rosa(sms):
    """Rosa texts the shop (in whatever language she writes): the one reply she gets."""

    def send(body):
        (reply,) = sms(ROSA, body).replies
        return reply

    return send


@pytest.fixture
def at(settings):
    settings.SHOP_HOURS = "mon-sun 11:00-22:00"
    return lambda when: mock.patch("django.utils.timezone.now", return_value=when)


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(
        django_user_model.objects.create(username="maria", is_superuser=True, is_staff=True)
    )
    return client


def customer():
    return Customer.objects.get(phone=ROSA)


def fits(reply, segments):
    info = analyse(reply)
    assert info.encoding == "GSM-7", reply  # no á í ó ú left to force UCS-2
    assert info.segments <= segments, (info.segments, reply)


# --- the whole path ------------------------------------------------------------------------


def test_a_spanish_customer_orders_follows_and_asks_in_spanish(
    menu, rosa, at, admin_client, django_capture_on_commit_callbacks
):
    with at(TUESDAY_2PM):
        carta = rosa("hola, ¿cuál es el menú?")
        assert carta.startswith(f"Menu de {settings.SHOP_NAME}\n")
        assert "Pizzas (S/M/L): PEP Pepperoni $10/13/16" in carta
        assert "Bebidas:" in carta and "escribe PEDIDO y los codigos" in carta
        fits(carta, 3)
        assert customer().language == "es"

        quote = rosa("quiero una pizza grande de pepperoni con champiñones")
        assert quote.startswith("Tu pedido:\n1x Pepperoni L con mushrooms $18\n")
        assert "Total $" in quote and "para recoger." in quote
        assert "Responde SI para confirmarlo" in quote
        fits(quote, 2)

        placed = rosa("si")
        order = Order.objects.get()
        assert placed.startswith(f"¡Gracias! Recibimos tu pedido #{order.number}: ")
        assert "1x Pepperoni L con mushrooms" in placed
        assert "Listo para recoger como a las " in placed
        assert "Escribe ESTADO para seguirlo o CANCELAR PEDIDO para cancelarlo." in placed
        fits(placed, 2)
        offer = Message.objects.filter(to_number=ROSA, body__contains="OFERTAS").get()
        assert offer.body.startswith("¿Quieres nuestras ofertas semanales? Responde OFERTAS")

        # Staff move it on in the admin: the customer reads it in Spanish.
        for button in ("start_preparing", "start_baking"):
            page = admin_client.get(change_url(order))
            with django_capture_on_commit_callbacks(execute=True):
                admin_client.post(move_url(order, button), form_data(page), follow=True)
        stage_text = Message.objects.filter(to_number=ROSA, object_id=str(order.pk)).latest("id")
        assert stage_text.body.startswith(f"¡Tu pedido #{order.number} esta en el horno! ")
        assert "Escribe ESTADO cuando quieras." in stage_text.body
        fits(stage_text.body, 2)

        status = rosa("dónde está mi pizza?")
        assert status.startswith(f"Tu pedido #{order.number} esta en el horno; estara listo")
        assert "Escribe CANCELAR PEDIDO para cancelar, o AYUDA para mas." in status
        fits(status, 2)


def test_texts_that_say_no_language_keep_the_one_remembered(menu, rosa, at):
    with at(TUESDAY_2PM):
        rosa("hola")
        assert rosa("2 L PEP").startswith("Tu pedido:\n2x Pepperoni L $32")
        assert rosa("ok").startswith("¡Gracias! Recibimos tu pedido #")
        assert rosa("YES").startswith("El pedido #")  # already in, in Spanish
        assert customer().language == "es"
        assert rosa("where is my pizza?").startswith("Order #")  # English now: clearly said
        assert customer().language == "en"


def test_a_new_customer_who_texts_only_keywords_gets_english(menu, rosa, at):
    with at(TUESDAY_2PM):
        assert rosa("2 L PEP").startswith("Your order:")
        assert customer().language == "en"


def test_staff_change_the_language_in_the_admin_and_the_replies_follow(menu, rosa, admin_client):
    assert "Drinks:" in rosa("MENU")
    url = reverse("admin:orders_customer_change", args=[customer().pk])
    page = admin_client.get(url)
    assert '<option value="es">Español</option>' in page.content.decode()
    response = admin_client.post(url, {**form_data(page), "language": "es"})
    assert response.status_code == 302, response.content
    assert customer().language == "es"
    assert "Bebidas:" in rosa("MENU")
    listing = admin_client.get(reverse("admin:orders_customer_changelist") + "?language__exact=es")
    assert ROSA[-4:] in listing.content.decode()


# --- staff-side texts: delays, late orders, cancellations ----------------------------------


@pytest.fixture
def spanish_order(db):
    rosa_ = CustomerFactory(phone=ROSA, language="es")
    return OrderFactory(customer=rosa_, fulfilment=Fulfilment.DELIVERY, address="1 Elm St")


def test_a_delay_and_a_late_order_are_texted_in_spanish(spanish_order, outbox):
    moved = services.delay_order(spanish_order, 15, "mucho trabajo")
    assert moved.text.body.startswith(
        f"Lo sentimos, el pedido #{spanish_order.number} se retraso (mucho trabajo). "
        "Nueva hora: en tu puerta como a las "
    )
    fits(moved.text.body, 2)
    later = timezone.now() + timedelta(hours=3)
    assert services.check_late_orders(now=later) == 1
    late = Message.objects.filter(to_number=ROSA).latest("id").body
    assert "esta tardando mas de lo previsto" in late
    fits(late, 2)


def test_a_cancellation_by_staff_is_texted_in_spanish(spanish_order):
    moved = services.cancel_order(spanish_order, reason="se nos acabó la masa")
    assert moved.text.body.startswith(
        f"Lo sentimos, tuvimos que cancelar el pedido #{spanish_order.number}: "
        "se nos acabo la masa. No se te cobrara nada."
    )


def test_deals_in_spanish_is_answered_and_remembered_in_spanish(sms, db):
    (reply,) = sms(ROSA, "OFERTAS").replies
    assert reply.startswith(f"{settings.SHOP_NAME}: ya recibes nuestras ofertas")
    fits(reply, 2)
    assert customer().language == "es"


# --- the support line ----------------------------------------------------------------------


@pytest.fixture
def line(twilio, django_capture_on_commit_callbacks, outbox, db):
    """The support line as Twilio drives it; every TwiML answer is checked against the XSD."""
    schema = xmlschema.XMLSchema10(str(XSD))
    return Line(twilio, django_capture_on_commit_callbacks, schema, outbox)


def spoken(response):
    return [(say.text, say.get("language"), say.get("voice")) for say in response.xml.iter("Say")]


def test_a_spanish_customer_calling_hears_spanish_in_a_spanish_voice(line, spanish_order):
    services.advance_order(spanish_order, Status.PREPARING)
    greeting = line.call_in(caller=ROSA)  # validated against Twilio's TwiML XSD
    said = spoken(greeting)
    assert said[0] == (f"Gracias por llamar a {settings.SHOP_NAME}.", "es-US", "Polly.Lupe")
    assert all(language == "es-US" and voice == "Polly.Lupe" for _, language, voice in said)
    assert any("Oprima 1 para escuchar su estado" in words for words, _, _ in said)
    params = {"CallSid": "CA" + "c" * 32, "From": ROSA, "CallStatus": "in-progress", "Digits": "1"}
    status = line.post(reverse("support:menu"), **params)
    words = " ".join(sentence for sentence, _, _ in spoken(status))
    assert f"El pedido {spanish_order.number} está en preparación." in words
    # "mañana a las 12:04 AM" when the estimate is past midnight (CI met it at 11:44 PM).
    assert re.search(r"Hora estimada: (mañana )?a las \d", words), words


def test_an_english_caller_keeps_the_default_voice(line, db):
    said = spoken(line.call_in(caller="+14155550100"))
    assert said[0] == (f"Thank you for calling {settings.SHOP_NAME}.", None, None)


def test_a_voice_notice_to_a_spanish_customer_is_worded_and_spoken_in_spanish(line, spanish_order):
    notice = notices.call_customer_with_order_status(ROSA)
    assert notice.message.startswith(f"Hola, le habla {settings.SHOP_NAME}. El pedido ")
    answer = line.post(reverse("support:notice-answer", args=[notice.pk]), CallSid="CA" + "d" * 32)
    assert {(language, voice) for _, language, voice in spoken(answer)} == {("es-US", "Polly.Lupe")}


# --- the order page ------------------------------------------------------------------------


def test_the_order_page_is_in_the_customers_language(client, spanish_order):
    page = client.get(reverse("orders:page", args=[spanish_order.token])).content.decode()
    assert '<html lang="es">' in page
    assert f"Pedido #{spanish_order.number}" in page
    assert "Tu pedido está en espera." in page
    assert "Llamar a la pizzería" in page
    english = OrderFactory()
    page = client.get(reverse("orders:page", args=[english.token])).content.decode()
    assert '<html lang="en">' in page and "Call the shop" in page


# --- the catalogue: complete, compiled, and nothing left out -------------------------------


def tool(name):
    found = shutil.which(name)
    if not found:
        print(f"skipped: {name} (gettext) is not installed")
        pytest.skip(f"{name} (gettext) is not installed")
    return found


@pytest.mark.parametrize("po", sorted(LOCALE.glob("*/LC_MESSAGES/django.po")), ids=str)
def test_every_message_is_translated_and_the_committed_mo_is_compiled_from_the_po(po, tmp_path):
    """msgfmt as `manage.py compilemessages` runs it: no fuzzy, no untranslated entry, and
    the committed .mo is exactly what the .po compiles to (a clone needs no msgfmt)."""
    compiled = tmp_path / "django.mo"
    run = subprocess.run(
        [tool("msgfmt"), "--check-format", "--statistics", "-o", str(compiled), str(po)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "fuzzy" not in run.stderr and "untranslated" not in run.stderr, run.stderr
    assert compiled.read_bytes() == po.with_suffix(".mo").read_bytes(), (
        f"{po.with_suffix('.mo')} is stale: run manage.py compilemessages"
    )


def msgids(po):
    """The (context, msgid) pairs of a .po file (header left out)."""
    entries, key, current = set(), {}, None
    for line in po.read_text().splitlines():
        if line.startswith(("msgctxt ", "msgid ", "msgstr")):
            current = line.split(" ", 1)[0]
            if current == "msgctxt":
                key = {}
            if current == "msgstr" and key.get("msgid"):
                entries.add((key.get("msgctxt"), key["msgid"]))
                key = {}
            key[current] = line.split(" ", 1)[1][1:-1]
        elif line.startswith('"') and current in ("msgctxt", "msgid"):
            key[current] += line[1:-1]
    return entries


def test_makemessages_finds_no_message_the_catalogue_lacks(tmp_path):
    """Every gettext / {% translate %} string in the code is in locale/es (makemessages run
    on a copy of the tree, so the repository is not touched)."""
    tool("xgettext")
    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns(".*", "var", "staticfiles", "node_modules", "__pycache__")
    shutil.copytree(ROOT, tree, ignore=skip, symlinks=True)
    run = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-obsolete"],
        cwd=tree, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    po = Path("locale/es/LC_MESSAGES/django.po")
    assert msgids(tree / po) == msgids(ROOT / po)
