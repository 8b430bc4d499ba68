"""Every page each role can reach renders without a server error."""
from __future__ import annotations


import pytest

from tests import factories

LIST_PAGES = [
    "/", "/ticketview/list/", "/ticketview/add", "/customerview/list/", "/customerview/add",
    "/contractview/list/", "/contractview/add", "/serviceorderview/list/", "/serviceorderview/add",
    "/myserviceorderview/list/", "/knowledgearticleview/list/", "/subjectview/list/", "/subjectview/add",
    "/ticketstatusview/list/", "/ticketstatusview/add", "/substatusview/list/", "/departmentview/list/",
    "/channelview/list/", "/priorityview/list/", "/closingreasonview/list/", "/serviceordertypeview/list/",
    "/customergroupview/list/", "/planview/list/", "/cityview/list/", "/siteview/list/", "/siteview/add",
    "/generalparametersview/list/", "/users/list/", "/roles/list/",
]


@pytest.fixture
def sample(db, users):
    user = db.session.merge(users["atendente"])
    ticket = factories.ticket(db.session, user)
    contract = factories.contract(db.session, ticket.customer)
    db.session.commit()
    return {"ticket": ticket.id, "customer": ticket.customer.id, "contract": contract.id}


@pytest.mark.parametrize("username", ["admin", "gestor", "atendente", "tecnico"])
def test_pages_render_without_error(login, sample, username):
    client = login(username)
    pages = LIST_PAGES + [
        f"/ticketview/show/{sample['ticket']}", f"/ticketview/edit/{sample['ticket']}",
        f"/customerview/show/{sample['customer']}", f"/customerview/edit/{sample['customer']}",
        f"/contractview/edit/{sample['contract']}",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code in (200, 302, 403, 404), (page, response.status_code)
        if response.status_code == 200:
            assert "Traceback" not in response.get_data(as_text=True), page
