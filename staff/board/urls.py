"""The staff board, under /staff/."""

from django.urls import path

from . import views

app_name = "board"

urlpatterns = [
    path("", views.board, name="board"),
    path("panels/alerts/", views.alerts_panel, name="alerts"),
    path("panels/<slug:name>/", views.panel, name="panel"),
    path("orders/<int:order_id>/move/", views.move_order, name="move"),
    path("orders/<int:order_id>/cancel/", views.cancel_order, name="cancel"),
    path("orders/<int:order_id>/paid/", views.paid_at_door, name="paid"),
    path("inbox/<int:inquiry_id>/reply/", views.reply, name="reply"),
    path("inbox/<int:inquiry_id>/done/", views.mark_done, name="inquiry-done"),
    path("agents/<int:agent_id>/shift/", views.set_shift, name="shift"),
    path("menu/<slug:kind>/<int:pk>/sold-out/", views.sold_out, name="sold-out"),
    path("kitchen/pace/", views.kitchen_pace, name="kitchen-pace"),
    path("kitchen/pause/", views.pause_orders, name="pause"),
    path("voicemails/<int:voicemail_id>/done/", views.voicemail_done, name="voicemail-done"),
    path(
        "voicemails/<int:voicemail_id>/call-back/",
        views.voicemail_call_back,
        name="voicemail-call-back",
    ),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("customers/<int:customer_id>/text/", views.text, name="text"),
    path("find/", views.find, name="find"),
]
