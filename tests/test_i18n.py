"""Every page Admin, Gestor and Atendente reach speaks pt-BR: no English label, dates as dd/mm/aaaa.

The crawl starts at "/" and follows the links of the navbar and of the pages it
finds (lists → show/edit/add of one record per view), GETs each one and checks
the visible text: text nodes plus the attributes a user reads (title,
placeholder, alt, aria-label, button values). Scripts and styles are skipped.
"""
from __future__ import annotations

import re
import sys
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.support import session
from tests import factories

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "app" / "translations" / "pt_BR" / "LC_MESSAGES" / "messages.po"
sys.path.insert(0, str(ROOT / "scripts"))
from check_translations import problems  # noqa: E402

# English UI words that must not survive translation (matched case-sensitively as whole words).
ENGLISH = [
    "Add", "Edit", "Show", "Delete", "Search", "List", "Save", "Back", "Actions", "Record Count", "Refresh",
    "Filter", "Add Filter", "Sign In", "Logout", "Profile", "Home", "Security", "Users", "Roles", "User",
    "No records found", "Yes", "No", "True", "False", "None", "Select", "Select Value", "Not a valid choice",
    "Statistics", "Reset", "Password", "Detail", "Page size", "Order by", "Welcome", "Username", "Name",
    "Permissions", "Permission", "Are you sure", "Created on", "Changed on", "Last login", "Full Name",
    "First Name", "Last Name", "Email", "Role", "Register", "Contains", "Equal to", "Starts with",
    "Cancel", "Groups", "Group", "Label", "Description", "Login Count", "Failed Login Count", "Confirm",
]
# Deliberate exceptions (whole-word, case-sensitive), each with its reason:
ALLOWED = {
    "Login": "pt-BR usa 'Login' (login PPPoE do contrato; link de entrada do FAB)",
}
ENGLISH_RE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in sorted(ENGLISH, key=len, reverse=True)) + r")(?![\w-])")
ISO_DATE_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

SKIP = re.compile(
    r"/(logout|lang|static|api|swagger|lookup|login)\b|/delete|/action|/download|/download_|\.(css|js|png|ico)$"
)
RECORD = re.compile(r"^(/[^/]+/(?:show|edit))/[^/]+/?$")
MAX_PAGES = 200
# Pages reached through FAB action links (skipped: actions may change data) or not linked at all.
EXTRA_PAGES = ["/resetmypassword/form", "/userinfoeditview/form", "/myserviceorderview/list/"]
VISIBLE_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label", "data-placeholder", "data-original-title"}


class VisibleText(HTMLParser):
    """Collect the text a user sees and the links of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag in ("script", "style", "template", "noscript"):
            self._hidden += 1
            return
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "input" and attributes.get("type") == "hidden":
            return
        for name in VISIBLE_ATTRIBUTES & attributes.keys():
            self.parts.append(attributes[name])
        if tag in ("input", "button") and attributes.get("type", "text") not in ("checkbox", "radio", "password", "file"):
            self.parts.append(attributes.get("value", ""))  # button captions and the values a form shows

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "noscript") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def parse(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser


def english_words(text: str) -> set[str]:
    return {m for m in ENGLISH_RE.findall(text) if m not in ALLOWED}


def crawl(client: Any) -> dict[str, VisibleText]:
    """GET every reachable page once (one show/edit per view); 200s only."""
    seen: set[str] = set()
    records: set[str] = set()
    pages: dict[str, VisibleText] = {}
    queue = deque(["/", *EXTRA_PAGES])
    seen.update(queue)
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url, follow_redirects=True)
        if response.status_code != 200 or not response.mimetype.startswith("text/html"):
            continue
        page = parse(response.get_data(as_text=True))
        pages[url] = page
        for href in page.links:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/") or SKIP.search(parts.path):
                continue
            path = parts.path
            record = RECORD.match(path)
            if record:
                if record.group(1) in records:
                    continue
                records.add(record.group(1))
            if path not in seen:
                seen.add(path)
                queue.append(path)
    return pages


@pytest.fixture
def sample(app: Any) -> dict[str, int]:
    """One record of each kind a list can link to, with dates to render."""
    import datetime as dt

    from app.domain import service_orders
    from app.domain.messages import add_message
    from app.extensions import appbuilder
    from app.models import KnowledgeArticle, ServiceOrder, TicketMessage

    with session(app) as s:
        agent = appbuilder.sm.find_user(username="atendente")
        technician = appbuilder.sm.find_user(username="tecnico")
        ticket = factories.ticket(s, agent)
        factories.contract(s, ticket.customer)
        add_message(s, TicketMessage(ticket=ticket, is_internal=True, body="Cliente orientado a reiniciar a ONU"), agent)
        start = dt.datetime(2026, 11, 23, 9, 0)
        order = ServiceOrder(ticket=ticket, technician=technician, description="Trocar ONU",
                             scheduled_start=start, scheduled_end=start + dt.timedelta(hours=2))
        service_orders.create_service_order(s, order, agent)
        s.add(KnowledgeArticle(title="Sem conexão", keywords="los, onu", solution="Reiniciar a ONU", active=True,
                               subject=ticket.subject))
        s.commit()
        return {"ticket": ticket.id}


def test_catalog_has_no_untranslated_or_fuzzy_entry():
    assert CATALOG.exists(), f"{CATALOG} ausente"
    assert problems(CATALOG) == []


def test_every_template_string_is_in_the_catalog():
    """Each folder of templates (back office, portal, any added later) is extracted: a string marked for
    translation in a template but missing from the catalog would never be translated."""
    from babel.messages.pofile import read_po

    with CATALOG.open("rb") as handle:
        known = {message.id if isinstance(message.id, str) else message.id[0] for message in read_po(handle)}
    marked = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
    missing = []
    for template in sorted((ROOT / "app").rglob("*.html")):
        for match in marked.finditer(template.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            if text not in known:
                missing.append(f"{template.relative_to(ROOT)}: {text!r}")
    assert not missing, "fora do catálogo (babel/babel.cfg não extrai a pasta?):\n" + "\n".join(missing[:20])


def test_check_script_flags_untranslated_and_fuzzy(tmp_path):
    po = tmp_path / "messages.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Salvar"\nmsgstr "Salvar"\n\n'
        'msgid "Add"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Edit"\nmsgstr "Editar"\n',
        encoding="utf-8",
    )
    found = problems(po)
    assert len(found) == 2
    assert any("'Add'" in line for line in found) and any("'Edit'" in line and "fuzzy" in line for line in found)


def test_login_page_is_in_portuguese(app):
    page = parse(app.test_client().get("/login/").get_data(as_text=True))
    text = " | ".join(page.parts)
    assert not english_words(text), text
    assert "Entrar" in text and "Senha" in text


@pytest.mark.parametrize("username", ["admin", "gestor", "atendente"])
def test_every_reachable_page_is_in_portuguese(login, sample, username):
    client = login(username)
    pages = crawl(client)
    visited = set(pages)
    assert any(url.startswith("/ticketview/list") for url in visited), sorted(visited)
    assert any(RECORD.match(url) for url in visited), sorted(visited)
    leftovers = {}
    for url, page in pages.items():
        text = " | ".join(page.parts)
        found = english_words(text)
        dates = ISO_DATE_RE.findall(text)
        if found or dates:
            leftovers[url] = sorted(found) + dates
    assert not leftovers, "\n".join(f"{url}: {words}" for url, words in sorted(leftovers.items()))


def test_form_validation_messages_are_in_portuguese(login):
    """WTForms/FAB validator messages ("This field is required.", "Not a valid choice") come out in pt-BR."""
    client = login("admin")
    response = client.post("/subjectview/add", data={"name": "", "sla_hours": "x", "default_department": "999999"})
    assert response.status_code == 200
    text = " | ".join(parse(response.get_data(as_text=True)).parts)
    assert "Campo obrigatório." in text and "Escolha inválida" in text, text
    assert not english_words(text), text
    assert not re.search(r"\b(This field is required|Not a valid|Invalid (input|Choice))\b", text), text
