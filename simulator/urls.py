"""The phone simulator, under /dev/phone/."""

from django.urls import path

from . import views

app_name = "phone"

urlpatterns = [
    path("", views.phone, name="phone"),
    path("number/", views.choose_number, name="number"),
    path("chat/", views.chat, name="chat"),
    path("text/", views.send_text, name="text"),
    path("call/", views.call, name="call"),
]
