"""The support line's webhooks, under /twilio/voice/ (the number's voice URL is "voice")."""

from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.incoming_call, name="voice"),
    path("status/", views.call_status, name="call-status"),
    path("menu/", views.menu, name="menu"),
    path("calls/<int:call_id>/hold/", views.hold, name="hold"),
    path("calls/<int:call_id>/conference/", views.conference_status, name="conference-status"),
    path("calls/<int:call_id>/recording/", views.call_recording, name="call-recording"),
    path("calls/<int:call_id>/voicemail/", views.voicemail, name="voicemail"),
    path("calls/<int:call_id>/voicemail/done/", views.voicemail_done, name="voicemail-done"),
    path(
        "calls/<int:call_id>/voicemail/recording/",
        views.voicemail_recording,
        name="voicemail-recording",
    ),
    path(
        "calls/<int:call_id>/voicemail/transcript/",
        views.voicemail_transcript,
        name="voicemail-transcript",
    ),
    path("calls/<int:call_id>/callback/", views.callback_customer, name="callback-customer"),
    path(
        "calls/<int:call_id>/callback/unanswered/",
        views.callback_unanswered,
        name="callback-unanswered",
    ),
    path("offers/<int:offer_id>/answer/", views.agent_answer, name="agent-answer"),
    path("offers/<int:offer_id>/accept/", views.agent_accept, name="agent-accept"),
    path("offers/<int:offer_id>/status/", views.agent_status, name="agent-status"),
    path("notices/<int:notice_id>/", views.notice_answer, name="notice-answer"),
    path("notices/<int:notice_id>/status/", views.notice_status, name="notice-status"),
    path("notices/<int:notice_id>/recording/", views.notice_recording, name="notice-recording"),
]
