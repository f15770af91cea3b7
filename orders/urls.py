"""The customer's pages: the shop's home page and each order's page (orders/pages.py)."""

from django.urls import path

from . import pages

app_name = "orders"

urlpatterns = [
    path("", pages.home, name="home"),
    path("o/<str:token>/", pages.order_page, name="page"),
    path("o/<str:token>/live/", pages.order_live, name="live"),
    path("o/<str:token>/cancel/", pages.cancel, name="cancel"),
]
