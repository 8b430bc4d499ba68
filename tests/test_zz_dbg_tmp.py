from tests.test_actions import _outage, session, load_ticket, user
def test_dbg(app, users):
    t = _outage(app)
    with session(app) as s:
        from app.domain import tickets
        draft = load_ticket(s, t["draft"])
        first = load_ticket(s, t["first"])
        print("addr", repr(draft.service_address), repr(first.service_address), draft.subject_id, first.subject_id, first.status.category, first.grouped_with_id)
        draft.is_draft = False
        print(tickets.find_group_leader(s, draft))
        print(tickets.update_ticket(s, draft, user(s, "atendente")))
        print(draft.grouped_with_id, draft.grouped_with)
