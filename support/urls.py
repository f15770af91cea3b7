"""The support line's webhooks, under /twilio/voice/ (the number's voice URL is "voice").

Each answers with and without its trailing slash (telephony.webhooks.webhook_paths)."""

from telephony.webhooks import webhook_paths

from . import views

app_name = "support"

urlpatterns = webhook_paths(
    ("voice/", views.incoming_call, "voice"),
    ("voice/status/", views.call_status, "call-status"),
    ("voice/menu/", views.menu, "menu"),
    ("voice/calls/<int:call_id>/order/", views.order, "order"),
    ("voice/calls/<int:call_id>/paid/", views.paid, "paid"),
    ("voice/calls/<int:call_id>/hold/", views.hold, "hold"),
    ("voice/calls/<int:call_id>/hold/left/", views.hold_left, "hold-left"),
    ("voice/calls/<int:call_id>/hold/choice/", views.hold_choice, "hold-choice"),
    ("voice/calls/<int:call_id>/conference/", views.conference_status, "conference-status"),
    ("voice/calls/<int:call_id>/recording/", views.call_recording, "call-recording"),
    ("voice/calls/<int:call_id>/voicemail/", views.voicemail, "voicemail"),
    ("voice/calls/<int:call_id>/voicemail/done/", views.voicemail_done, "voicemail-done"),
    (
        "voice/calls/<int:call_id>/voicemail/recording/",
        views.voicemail_recording,
        "voicemail-recording",
    ),
    (
        "voice/calls/<int:call_id>/voicemail/transcript/",
        views.voicemail_transcript,
        "voicemail-transcript",
    ),
    ("voice/calls/<int:call_id>/callback/", views.callback_customer, "callback-customer"),
    (
        "voice/calls/<int:call_id>/callback/unanswered/",
        views.callback_unanswered,
        "callback-unanswered",
    ),
    ("voice/offers/<int:offer_id>/answer/", views.agent_answer, "agent-answer"),
    ("voice/offers/<int:offer_id>/accept/", views.agent_accept, "agent-accept"),
    ("voice/offers/<int:offer_id>/status/", views.agent_status, "agent-status"),
    ("voice/notices/<int:notice_id>/", views.notice_answer, "notice-answer"),
    ("voice/notices/<int:notice_id>/status/", views.notice_status, "notice-status"),
    ("voice/notices/<int:notice_id>/recording/", views.notice_recording, "notice-recording"),
)
