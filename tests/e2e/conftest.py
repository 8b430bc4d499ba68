"""Browser fixtures: the session app served by werkzeug and a headless Debian chromium.

Without /usr/bin/chromium the browser tests are skipped with a visible notice,
unless ATENDE_REQUIRE_BROWSER=1 (CI), in which case they fail.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("ATENDE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
_NOTICES: list[str] = []


def _browser_unavailable() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"chromium não encontrado em {CHROMIUM} (instale o pacote Debian 'chromium')"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "pacote python 'playwright' não instalado"
    return None


def _require_browser() -> None:
    reason = _browser_unavailable()
    if reason is None:
        return
    if os.environ.get("ATENDE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ATENDE_REQUIRE_BROWSER=1 mas o navegador não está disponível: {reason}", pytrace=False)
    message = f"testes de navegador ignorados: {reason}"
    if message not in _NOTICES:
        _NOTICES.append(message)
        warnings.warn(message, stacklevel=2)
    pytest.skip(message)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for notice in _NOTICES:
        terminalreporter.write_sep("=", "AVISO", yellow=True, bold=True)
        terminalreporter.write_line(notice, yellow=True, bold=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A browser tab; any Content-Security-Policy violation it reports fails the test."""
    context = browser.new_context(base_url=live_server, locale="pt-BR", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    violations: list[str] = []
    tab.on("console", lambda message: violations.append(f"{tab.url}: {message.text}")
           if "Content Security Policy" in message.text else None)
    try:
        yield tab
    finally:
        context.close()
    assert not violations, "\n".join(violations)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
