from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("stripe/webhook/", views.stripe_webhook, name="webhook"),
    path("o/<str:token>/pay/", views.pay, name="pay"),
]
