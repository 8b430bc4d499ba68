"""pt-BR error answers: a page inside the application layout, or JSON {"message"} for the REST API."""
from __future__ import annotations

import logging
from typing import Any, Optional
from urllib.parse import urlsplit

from flask import Response, current_app, flash, g, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext, lazy_gettext as _l
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.apibase import status_message

log = logging.getLogger(__name__)

MB = 1024 * 1024
PAGES = {  # status: (title, explanation)
    400: (_l("Solicitação inválida"),
          _l("Não foi possível entender a solicitação. Se você estava preenchendo um formulário, a página pode ter "
             "expirado: volte, recarregue a página e tente de novo.")),
    401: (_l("Acesso não autorizado"), _l("Entre com seu usuário e senha para continuar.")),
    403: (_l("Acesso negado"),
          _l("O seu perfil não tem permissão para abrir esta página ou fazer esta operação. Se você precisa dela, "
             "fale com o administrador do sistema.")),
    404: (_l("Página não encontrada"),
          _l("O endereço não existe ou o registro não está disponível para você. Confira o link ou volte ao "
             "início.")),
    405: (_l("Operação não permitida"),
          _l("Este endereço não aceita esta operação. Volte à página anterior e use os botões da tela.")),
    413: (_l("Arquivo grande demais"), None),
    429: (_l("Muitas tentativas"),
          _l("Foram feitas muitas tentativas em pouco tempo. Aguarde um minuto e tente de novo.")),
    500: (_l("Erro interno"),
          _l("Ocorreu um erro inesperado e a operação não foi concluída. Tente de novo em instantes; se o erro "
             "continuar, avise o suporte.")),
}
OTHER = (_l("Não foi possível concluir a solicitação"),
         _l("Tente de novo em instantes; se o erro continuar, avise o suporte."))


def too_large_message() -> str:
    """The 413 explanation, with the server's limit."""
    limit_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // MB
    return gettext("O arquivo é grande demais: o limite do servidor é de %(mb)d MB. Nada foi salvo.", mb=limit_mb)


def explain(code: int) -> tuple[str, str]:
    """The page title and explanation of an HTTP error status."""
    title, explanation = PAGES.get(code) or (PAGES[500] if code >= 500 else OTHER)
    return str(title), too_large_message() if code == 413 else str(explanation)


def wants_json() -> bool:
    """The REST API, and scripts that ask for JSON rather than HTML (remote selects), get JSON."""
    if request.path.startswith("/api/"):
        return True
    accept = request.accept_mimetypes
    return accept.best_match(("text/html", "application/json")) == "application/json" and \
        accept["application/json"] > accept["text/html"]


def form_page() -> Optional[str]:
    """Where a refused form post goes back to: the same address when it has a page, else the page it came from."""
    if request.method != "POST":
        return None
    try:
        current_app.url_map.bind_to_environ(request.environ).match(request.path, method="GET")
        return request.path
    except HTTPException:  # no page at this address
        pass
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path != request.path:
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return None


def error_page(code: int, headers: Optional[list[tuple[str, str]]] = None) -> Response:
    """The pt-BR page of an error inside the application layout; an Assinante refused is pointed to the portal."""
    from app.extensions import appbuilder
    from app.pages.home import customer_pointer, is_customer

    if "user" not in g:  # refused by an earlier hook (CSRF, body size) before FAB set the user
        appbuilder.sm.before_request()
    if code == 403 and is_customer():
        return customer_pointer(403)
    title, explanation = explain(code)
    try:
        body = render_template("errors/error.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                               code=code, title=title, explanation=explanation)
    except Exception:  # the layout itself failed (e.g. the database is down): a bare page, never a traceback
        log.exception("error page %s could not be rendered", code)
        body = (f'<!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><title>{title}</title></head>'
                f'<body><h1>{title}</h1><p>{explanation}</p><p><a href="/">{gettext("Voltar ao início")}</a></p>'
                f"</body></html>")
    return make_response(body, code, headers or [])


def rollback() -> None:
    """Leave no half-done transaction behind an unexpected error."""
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the database is gone: the page is still answered
        log.exception("rollback after an error failed")


def handle(error: HTTPException) -> Any:
    """Answer an HTTP error (aborted, raised by Werkzeug or an unhandled exception as 500) in pt-BR."""
    code = error.code or 500
    if code < 400 or error.response is not None:
        return error
    if code >= 500:
        rollback()
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]  # Allow …
    if request.path == "/central" or request.path.startswith("/central/"):  # the customer portal's own layout
        from app.portal.views import error_response

        return error_response(code, headers)
    if wants_json():
        message = too_large_message() if code == 413 else status_message(code)
        return jsonify(message=message), code, headers
    back = form_page() if code == 413 else None
    if back:
        flash(too_large_message(), "danger")
        return redirect(back)
    return error_page(code, headers)


def refuse_large_body() -> None:
    """Refuse a body above MAX_CONTENT_LENGTH before a view reads it (FAB's API would turn the 413 into a 500)."""
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def register(appbuilder: Any) -> None:
    """Answer every HTTP error status, and unhandled exceptions (500), with the pt-BR answers above."""
    app = current_app._get_current_object()  # register() runs inside the app context (init_app)
    app.before_request(refuse_large_body)
    app.register_error_handler(HTTPException, handle)
