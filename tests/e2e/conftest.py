"""Browser fixtures: the session app served by werkzeug and a headless Debian chromium.

Without /usr/bin/chromium the browser tests are skipped with a visible notice,
unless ATENDE_REQUIRE_BROWSER=1 (CI), in which case they fail.
"""
from __future__ import annotations

import os
import threading
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
def live_server(app: Any) -> Iterator[str]:
    """Serve the session app on a free localhost port in a background thread."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log in the test output
            pass

    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="atende-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


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
    context = browser.new_context(base_url=live_server, locale="pt-BR", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
