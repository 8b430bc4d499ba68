"""Ticket lists: "Meus atendimentos" shows only the tickets where I am an assignee (R13)."""
from __future__ import annotations

from tests import factories
from tests.support import session, user


def test_my_tickets_lists_only_where_i_am_assignee(app, login, users):
    with session(app) as s:
        me, colleague = user(s, "atendente"), user(s, "atendente2")
        mine = factories.ticket(s, me, assignees=[me])
        theirs = factories.ticket(s, me, assignees=[colleague])
        nobody = factories.ticket(s, me)
        s.commit()
        protocols = mine.protocol, theirs.protocol, nobody.protocol
    page = login("atendente").get("/myticketview/list/").get_data(as_text=True)
    assert "Meus atendimentos" in page
    assert protocols[0] in page and protocols[1] not in page and protocols[2] not in page
    everything = login("atendente").get("/ticketview/list/", follow_redirects=True).get_data(as_text=True)
    assert all(p in everything for p in protocols)


def test_my_tickets_cannot_open_a_colleagues_ticket_by_id(app, login, users):
    with session(app) as s:
        colleague = user(s, "atendente2")
        theirs = factories.ticket(s, colleague, assignees=[colleague])
        pk = theirs.id
    assert login("atendente").get(f"/myticketview/show/{pk}").status_code == 404


def test_list_opens_on_the_default_period_and_filters_widen_it(app, login, users):
    import datetime as dt

    import sqlalchemy as sa

    with session(app) as s:
        me = user(s, "atendente")
        recent = factories.ticket(s, me)
        old = factories.ticket(s, me, opened_at=dt.datetime.now() - dt.timedelta(days=30))
        s.execute(sa.text("UPDATE general_parameters SET default_list_days = 7"))
        s.commit()
        recent_protocol, old_protocol = recent.protocol, old.protocol
    client = login("atendente")
    first = client.get("/ticketview/list/")
    assert first.status_code == 302 and "date_from=" in first.headers["Location"]
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert recent_protocol in page and old_protocol not in page
    since = (dt.date.today() - dt.timedelta(days=60)).strftime("%d/%m/%Y")
    wider = client.get(f"/ticketview/list/?date_from={since}").get_data(as_text=True)
    assert recent_protocol in wider and old_protocol in wider
