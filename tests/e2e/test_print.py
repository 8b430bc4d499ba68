"""Print outs in a browser, as a Gestor: the ticket print page (screen and print media), its PDF and the list PDF
(issue 9, must show 7). Screenshots go to test-artifacts/screenshots/print-*.png; the PDFs' pages are rendered
there too when poppler's pdftoppm is installed."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.e2e.test_browser import Visit, visit  # noqa: F401  (fixture)
from tests.test_print_outs import full_history_ticket, leaks, long_name


def _render(pdf: Path, name: str, folder: Path) -> None:
    """Keep an image of each PDF page next to the screenshots (print-NN-name-1.png …) when pdftoppm exists."""
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "90", "-png", str(pdf), str(folder / name)], check=True, timeout=120)


def test_manager_prints_a_ticket_and_the_list(visit: Visit, app, users, tmp_path):  # noqa: F811
    from tests import factories
    from tests.test_print_outs import session

    t = full_history_ticket(app)
    with session(app) as s:
        agent = s.merge(users["atendente"])
        for n in range(12):
            factories.ticket(s, agent, owner=factories.customer(s, name=long_name(n)),
                             opening_description="Cliente relata lentidão; já reiniciou o roteador. " * (n % 3 + 1))
    visit.login("rcosta")

    text = visit.goto(f"/ticketprint/{t['id']}", "print-01-ticket")
    assert t["protocol"] in text and "Renata Costa Almeida" in text and "Joaquim Ferreira Lopes" in text
    assert "Ordem de serviço: Abertura da OS" in text
    assert leaks(text) == [], leaks(text)
    visit.page.emulate_media(media="print")
    visit.page.screenshot(path=str(visit.folder / "print-02-ticket-print-media.png"), full_page=True)
    assert not visit.page.is_visible("#print-button")
    visit.page.emulate_media(media="screen")

    with visit.page.expect_download() as download:
        visit.page.click(f"a[href$='/ticketprint/{t['id']}/pdf']")
    ticket_pdf = tmp_path / "atendimento.pdf"
    download.value.save_as(ticket_pdf)
    assert ticket_pdf.read_bytes().startswith(b"%PDF")
    assert leaks(factories.pdf_text(ticket_pdf.read_bytes())) == []
    _render(ticket_pdf, "print-03-ticket-pdf", visit.folder)

    text = visit.goto("/ticketview/list/", "print-04-ticket-list")
    assert re.search(r"\d{14}", text)
    with visit.page.expect_download() as download:
        visit.page.click("#export-pdf")
    list_pdf = tmp_path / "atendimentos.pdf"
    download.value.save_as(list_pdf)
    plain = " ".join(factories.pdf_text(list_pdf.read_bytes()).split())
    assert "…" not in plain and "Total:" in plain
    _render(list_pdf, "print-05-list-pdf", visit.folder)
    visit.assert_ptbr()
