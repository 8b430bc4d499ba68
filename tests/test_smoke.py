def test_login_page_is_ptbr(app):
    html = app.test_client().get("/login/").get_data(as_text=True)
    assert "csrf_token" in html


def test_api_creates_ticket_with_protocol(app, api, users, db):
    from tests import factories
    c = factories.customer(db.session)
    s = factories.subject(db.session)
    db.session.commit()
    client = api("atendente")
    r = client.post("/api/v1/ticket/", json={"type": "customer", "customer": c.id, "subject": s.id, "opening_description": "Sem sinal"})
    assert r.status_code == 201, r.get_data(as_text=True)
    tid = r.json["id"]
    r = client.get(f"/api/v1/ticket/{tid}")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert len(r.json["result"]["protocol"]) == 14
