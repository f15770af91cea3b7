"""Which language a customer's text is in: "en" or "es", from a word list.

Why a word list and not a detector library (langdetect, lingua, fastText): the texts are
short ("si", "2 grande pep", "hola, cuál es el menú?"), where statistical detectors are at
their weakest and often answer Portuguese or Italian; a list of words that only Spanish
speakers text, weighed against a list of English ones, decides these texts correctly, takes a
few microseconds, and needs no model download or extra dependency. Menu words that both
languages use (pizza, pepperoni, menu, coke, no) count for neither, and a tie is English, the
shop's default. Accented letters and ¿ ¡ count for Spanish.

What is remembered (Customer.language) is stricter: `said_language` answers only when the
text itself says which language, leaving out the shop's keywords and their replies
("YES", "SI", "ok", "no", "MENU", "ORDER"), which either language's customers text. A tie
("2 L PEP", "ok", "YES") says nothing, and the customer keeps the language remembered.
"""

_SPANISH_WORDS = """
    quiero quisiera queria dame deme pedir ordenar mandame manda traeme necesito puedo podria
    gustaria una uno un dos tres cuatro cinco seis siete ocho nueve diez once doce
    de del la las el los mi mis tu su por favor porfa gracias hola buenas buenos dias tardes
    noches pedido orden cual cuales que donde esta estan cuanto cuanta falta tarda tardan demora
    cancela cancelar cancelen cancele grande grandes mediana mediano medianas pequena pequeno
    pequenas chica chico con sin y para llevar recoger masa delgada fina siempre mismo misma
    ultima vez si claro dale vale listo lista listos tienen tiene hay ayuda refresco refrescos
    agua coca queso champinones champinon hongos cebolla cebollas pimiento pimientos aceitunas
    jamon pina tocino mitad bien cocida cocido cortada cuadros tambien nada hora horas tarde
    noche manana mediodia ya es son
"""
_ENGLISH_WORDS = """
    i im id ill want would like the an please pls plz can could get with and my is are where
    how long order large medium small hi hello hey thanks thank yes yeah yep of for to have
    some you what do does same usual cancel ready it just need give send pickup deliver
    delivery at pm am well done extra cheese mushrooms onions peppers half time last
"""
SPANISH = frozenset(_SPANISH_WORDS.split())
ENGLISH = frozenset(_ENGLISH_WORDS.split())
SPANISH_MARKS = frozenset("áéíóúñ¿¡")


# Keywords and bare answers customers of both languages text: they say nothing of the language.
NEUTRAL = frozenset(
    ["yes", "y", "si", "no", "ok", "okay", "order", "menu", "status", "help", "cancel", "stop"]
)


def _scores(words, raw, leave_out=frozenset()):
    words = [word for word in words if word not in leave_out]
    spanish = sum(1 for word in words if word in SPANISH)
    english = sum(1 for word in words if word in ENGLISH)
    spanish += sum(1 for ch in raw.lower() if ch in SPANISH_MARKS)
    return spanish, english


def detect_language(words, raw=""):
    """ "es" or "en" for a text's normalized `words` (accents folded) and its `raw` form."""
    spanish, english = _scores(words, raw)
    return "es" if spanish > english else "en"


def said_language(words, raw=""):
    """ "es" or "en" when the text clearly says which, else "" (a tie, or keywords only)."""
    spanish, english = _scores(words, raw, leave_out=NEUTRAL)
    if spanish == english:
        return ""
    return "es" if spanish > english else "en"
