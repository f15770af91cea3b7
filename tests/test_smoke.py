def test_unknown_text_gets_a_reply_through_the_signed_webhook(sms, db):
    response = sms("+14155550199", "hello")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Message>" in response.content
