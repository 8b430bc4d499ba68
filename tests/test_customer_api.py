"""The `customer` API resource with its phones and e-mails: nested lists in POST, PUT and GET, checked by the domain."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.models import Customer, CustomerEmail, CustomerPhone
from tests import factories
from tests.support import session

CPF = "52998224725"


def stored(app: Any, document: str = CPF) -> dict[str, Any]:
    """The customer's contacts as the database holds them."""
    with session(app) as s:
        customer = s.scalar(select(Customer).where(Customer.document == document))
        if customer is None:
            return {}
        return {
            "phones": [(p.number, p.kind, p.is_primary, p.contact_name) for p in customer.phones],
            "emails": [(e.email, e.is_primary) for e in customer.emails],
            "version": customer.version,
        }


def erp_customer(**extra: Any) -> dict[str, Any]:
    return {"person_type": "PF", "name": "Joana Prado", "document": "529.982.247-25", **extra}


def test_erp_creates_a_customer_with_its_contacts_and_reads_them_back(app, api, users):
    client = api("atendente")
    response = client.post("/api/v1/customer/", json=erp_customer(
        phones=[{"number": "(11) 98765-4321", "kind": "whatsapp", "is_primary": True, "contact_name": "Joana"},
                {"number": "+55 11 3333-4444", "kind": "landline"}],
        emails=[{"email": "joana@example.com", "is_primary": True}, {"email": "financeiro@example.com"}]))
    assert response.status_code == 201, response.json
    assert response.json["result"]["phones"][0] == {
        "number": "11987654321", "kind": "whatsapp", "is_primary": True, "contact_name": "Joana"}
    assert stored(app) == {
        "phones": [("11987654321", "whatsapp", True, "Joana"), ("1133334444", "landline", False, None)],
        "emails": [("joana@example.com", True), ("financeiro@example.com", False)],
        "version": 1,
    }
    shown = client.get(f"/api/v1/customer/{response.json['id']}")
    assert shown.status_code == 200
    result = shown.json["result"]
    assert result["phones"] == [
        {"number": "11987654321", "kind": "whatsapp", "is_primary": True, "contact_name": "Joana"},
        {"number": "1133334444", "kind": "landline", "is_primary": False, "contact_name": None}]
    assert result["emails"] == [{"email": "joana@example.com", "is_primary": True},
                                {"email": "financeiro@example.com", "is_primary": False}]
    assert result["version"] == 1 and shown.headers["ETag"]


def test_a_list_without_a_primary_gets_its_first_entry_as_primary(app, api, users):
    response = api("atendente").post("/api/v1/customer/", json=erp_customer(
        phones=[{"number": "11987654321"}, {"number": "1133334444"}], emails=[{"email": "joana@example.com"}]))
    assert response.status_code == 201, response.json
    assert stored(app)["phones"] == [("11987654321", "mobile", True, None), ("1133334444", "mobile", False, None)]
    assert stored(app)["emails"] == [("joana@example.com", True)]


def test_put_replaces_the_lists_given_keeps_known_records_and_leaves_the_others(app, api, users):
    client = api("atendente")
    created = client.post("/api/v1/customer/", json=erp_customer(
        phones=[{"number": "11987654321", "is_primary": True}, {"number": "1133334444", "kind": "landline"}],
        emails=[{"email": "joana@example.com"}]))
    pk = created.json["id"]
    with session(app) as s:
        kept = s.scalar(select(CustomerPhone.id).where(CustomerPhone.number == "1133334444"))
    tag = client.get(f"/api/v1/customer/{pk}").headers["ETag"]
    response = client.put(f"/api/v1/customer/{pk}", headers={"If-Match": tag}, json={
        "phones": [{"number": "(11) 3333-4444", "kind": "landline", "is_primary": True, "contact_name": "Portaria"},
                   {"number": "21999998888", "kind": "mobile"}]})
    assert response.status_code == 200, response.json
    after = stored(app)
    assert after["phones"] == [("1133334444", "landline", True, "Portaria"), ("21999998888", "mobile", False, None)]
    assert after["emails"] == [("joana@example.com", True)], "a list not sent stays as it is"
    assert after["version"] == 2, "a change of the contacts is a change of the customer (R29)"
    with session(app) as s:
        assert s.scalar(select(CustomerPhone.id).where(CustomerPhone.number == "1133334444")) == kept
        assert s.scalar(select(CustomerPhone.id).where(CustomerPhone.number == "11987654321")) is None

    response = client.put(f"/api/v1/customer/{pk}", json={"version": 2, "emails": []})
    assert response.status_code == 200, response.json
    assert stored(app)["emails"] == [] and stored(app)["version"] == 3


def test_put_names_the_version_it_read(app, api, users):
    """R29: a customer update without the version read is refused (428), a stale one conflicts (409)."""
    client = api("atendente")
    pk = client.post("/api/v1/customer/", json=erp_customer()).json["id"]
    missing = client.put(f"/api/v1/customer/{pk}", json={"name": "Joana P."})
    assert missing.status_code == 428 and "If-Match" in missing.json["message"]
    assert client.put(f"/api/v1/customer/{pk}", json={"name": "Joana P.", "version": 1}).status_code == 200
    stale = client.put(f"/api/v1/customer/{pk}", json={"phones": [{"number": "11987654321"}], "version": 1})
    assert stale.status_code == 409
    assert stored(app)["phones"] == [] and stored(app)["version"] == 2


@pytest.mark.parametrize("body,field,message", [
    ({"phones": [{"number": "1234"}]}, "phones[0].number", "Telefone inválido: informe DDD e número (10 ou 11 dígitos)."),
    ({"phones": [{"number": "11987654321", "is_primary": True}, {"number": "1133334444", "is_primary": True}]},
     "phones", "Marque apenas um telefone como principal."),
    ({"phones": [{"number": "11987654321"}, {"number": "(11) 98765-4321"}]}, "phones[1].number",
     "O telefone (11) 98765-4321 foi informado mais de uma vez."),
    ({"emails": [{"email": "joana@example.com"}, {"email": "sem-arroba"}]}, "emails[1].email",
     "E-mail inválido: sem-arroba"),
    ({"emails": [{"email": "a@example.com", "is_primary": True}, {"email": "b@example.com", "is_primary": True}]},
     "emails", "Marque apenas um e-mail como principal."),
])
def test_contacts_refused_by_the_domain_answer_422_naming_the_entry_and_save_nothing(app, api, users, body, field,
                                                                                   message):
    client = api("atendente")
    response = client.post("/api/v1/customer/", json=erp_customer(**body))
    assert response.status_code == 422, response.json
    assert response.json == {"message": message, "field": field}
    assert stored(app) == {}

    pk = client.post("/api/v1/customer/", json=erp_customer(phones=[{"number": "11912345678"}])).json["id"]
    response = client.put(f"/api/v1/customer/{pk}", json={**body, "version": 1})
    assert response.status_code == 422 and response.json == {"message": message, "field": field}
    assert stored(app)["phones"] == [("11912345678", "mobile", True, None)] and stored(app)["version"] == 1


def test_an_email_of_another_customer_is_refused(app, api, users):
    with session(app) as s:
        other = factories.customer(s, "Outro Cliente")
        other.emails.append(CustomerEmail(email="joana@example.com", is_primary=True))
        s.commit()
    response = api("atendente").post("/api/v1/customer/", json=erp_customer(emails=[{"email": "JOANA@example.com"}]))
    assert response.status_code == 422
    assert response.json["field"] == "emails[0].email"
    assert "já pertence a outro cliente" in response.json["message"]
    assert stored(app) == {}


@pytest.mark.parametrize("body,errors", [
    ({"phones": [{"kind": "mobile"}]}, {"phones": {"0": {"number": ["Campo obrigatório."]}}}),
    ({"phones": [{"number": "11987654321", "kind": "fax"}]},
     {"phones": {"0": {"kind": ["Tipo de telefone inválido: use mobile, landline, whatsapp."]}}}),
    ({"phones": [{"number": "11987654321", "is_primary": "sim"}]},
     {"phones": {"0": {"is_primary": ["Valor lógico inválido (use true ou false)."]}}}),
    ({"phones": [{"number": "11987654321", "ramal": "12"}]}, {"phones": {"0": {"ramal": ["Campo desconhecido."]}}}),
    ({"phones": "11987654321"}, {"phones": ["Lista inválida."]}),
    ({"emails": None}, {"emails": ["Este campo não pode ficar vazio."]}),
    ({"emails": [{"email": f"c{n}@example.com"} for n in range(21)]},
     {"emails": ["Informe no máximo 20 contatos por lista."]}),
])
def test_contacts_of_the_wrong_shape_answer_422_in_portuguese_by_field(app, api, users, body, errors):
    response = api("atendente").post("/api/v1/customer/", json=erp_customer(**body))
    assert response.status_code == 422
    assert response.json["message"] == errors
    assert stored(app) == {}


def test_the_spec_describes_the_nested_contacts(app, api, users):
    spec = api("admin").get("/api/v1/_openapi").json
    schemas = spec["components"]["schemas"]
    for kind in ("post", "put"):
        properties = schemas[f"CustomerApi.{kind}"]["properties"]
        assert properties["phones"]["type"] == "array" and properties["phones"]["maxItems"] == 20
        assert properties["phones"]["items"] == {"$ref": "#/components/schemas/CustomerPhoneInput"}
        assert properties["emails"]["items"] == {"$ref": "#/components/schemas/CustomerEmailInput"}
    assert "version" in schemas["CustomerApi.put"]["properties"]
    phone = schemas["CustomerPhoneInput"]
    assert phone["required"] == ["number"]
    assert phone["properties"]["kind"]["enum"] == ["mobile", "landline", "whatsapp"]
    assert phone["properties"]["is_primary"]["type"] == "boolean"
    assert schemas["CustomerEmailInput"]["required"] == ["email"]
    put = spec["paths"]["/api/v1/customer/{pk}"]["put"]
    assert "428" in put["responses"] and any(p["name"] == "If-Match" for p in put["parameters"])


def test_a_list_filter_with_a_nul_character_is_refused_not_a_500(app, api, users):
    """PostgreSQL stores no NUL byte nor lone surrogate: a filter value holding one is a 400 on every database."""
    import json
    from urllib.parse import quote

    for value in ("a\u0000b", ["ok", "\ud800"]):
        opr = "in" if isinstance(value, list) else "eq"
        q = json.dumps({"filters": [{"col": "name", "opr": opr, "value": value}]})
        response = api("atendente").get(f"/api/v1/customer/?q={quote(q)}")
        assert response.status_code == 400, response.json
        assert response.json["message"] == ("Parâmetro “q” inválido em filters/0/value: caractere nulo ou fora do "
                                            "padrão Unicode.")


def test_a_word_where_a_record_id_goes_is_not_found(app, api, users):
    """GET /api/v1/<resource>/<word> is no record (404), while a method the address does not take stays 405."""
    client = api("atendente")
    for url in ("/api/v1/ticket/reiterate", "/api/v1/customer/abc", "/api/v1/ticket/1e3"):
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)
    assert client.get("/api/v1/ticket/mass_edit").status_code == 405
    assert client.post("/api/v1/ticket/1").status_code == 405


def test_the_erp_reads_and_writes_the_customers_message_preferences(app, api, users):
    """Opt-outs (R25) travel with the customer: an ERP that records "no SMS" sets it, and it is respected."""
    client = api("atendente")
    created = client.post("/api/v1/customer/", json=erp_customer(accepts_sms=False))
    assert created.status_code == 201, created.json
    shown = client.get(f"/api/v1/customer/{created.json['id']}").json["result"]
    assert (shown["accepts_email"], shown["accepts_sms"]) == (True, False), "the e-mail default is to accept"
    changed = client.put(f"/api/v1/customer/{created.json['id']}", json={"accepts_email": False, "version": 1})
    assert changed.status_code == 200, changed.json
    with session(app) as s:
        customer = s.get(Customer, created.json["id"])
        assert (customer.accepts_email, customer.accepts_sms) == (False, False)
    wrong = client.put(f"/api/v1/customer/{created.json['id']}", json={"accepts_email": "talvez", "version": 2})
    assert wrong.status_code in (400, 422) and "accepts_email" in str(wrong.json)
