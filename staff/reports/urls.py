from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [path("", views.day_report, name="day")]
