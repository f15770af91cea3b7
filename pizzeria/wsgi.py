"""WSGI entry point (gunicorn pizzeria.wsgi). Each web process loads it (gunicorn without
--preload: after the fork) and beats as "web" from a thread of its own (/readyz, the board)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pizzeria.settings")
application = get_wsgi_application()

from telephony import processes  # noqa: E402  (needs the apps loaded)

processes.beat_in_background(processes.WEB)
