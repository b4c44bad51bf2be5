"""The pages a browser sees while signing in: the landing page and the refusals, in Russian.

Every refusal of a sign-in (a code from :mod:`server.signin.session`, or ESIA's
own ``error`` on the callback) is one entry of :data:`TEXTS`: a title and a
sentence a parent can act on, never a traceback nor anything the request
carried (ESIA's ``error_description`` is not shown, only its ``ESIA-NNNNNN``
code, which the school's administrator can look up).  The web client (a
later issue) takes its texts from the same table.
"""

from __future__ import annotations

import html
from typing import Final

from aiohttp import web

SIGN_IN_PATH: Final = "/auth/login"

TEXTS: Final[dict[str, tuple[str, str]]] = {
    "sign_in.state_unknown": (
        "Ссылка для входа недействительна",
        "Эта ссылка входа уже использована или выдана не Звонком. Начните вход заново.",
    ),
    "sign_in.expired": (
        "Время на вход истекло",
        "С нажатия «Войти» прошло слишком много времени. Начните вход заново.",
    ),
    "sign_in.other_browser": (
        "Вход начат в другом окне или браузере",
        "Завершите вход там, где нажимали «Войти», или начните его заново здесь.",
    ),
    "sign_in.code_refused": (
        "Госуслуги не подтвердили вход",
        "Код входа недействителен, устарел или уже использован. Войдите снова.",
    ),
    "sign_in.token_refused": (
        "Не удалось проверить ответ Госуслуг",
        "Данные о входе не прошли проверку. Войдите снова; если не получится, "
        "сообщите администратору школы.",
    ),
    "sign_in.unknown_person": (
        "Вас нет в списках школы",
        "Эта учётная запись Госуслуг не найдена ни в одной школе. Обратитесь в свою школу.",
    ),
    "sign_in.declined": (
        "Вы не предоставили доступ",
        "Без согласия на передачу данных с Госуслуг войти в Звонок нельзя. "
        "Если передумаете, войдите снова и нажмите «Предоставить».",
    ),
    "sign_in.esia_error": (
        "Госуслуги отказали во входе",
        "Госуслуги вернули ошибку. Попробуйте войти ещё раз; если ошибка повторится, "
        "сообщите администратору школы её код.",
    ),
    "sign_in.esia_busy": (
        "Госуслуги временно недоступны",
        "Сервис авторизации Госуслуг сейчас не может обработать запрос. "
        "Попробуйте через несколько минут.",
    ),
    "esia.unavailable": (
        "Госуслуги не отвечают",
        "Не удалось связаться с Госуслугами. Попробуйте через несколько минут.",
    ),
    "session.expired": ("Сессия истекла — войдите снова", "Войдите через Госуслуги ещё раз."),
    "auth.cross_site": (
        "Запрос отклонён",
        "Запрос пришёл не со страницы Звонка. Откройте Звонок и повторите действие.",
    ),
    "sign_in.failed": (
        "Войти не получилось",
        "Что-то пошло не так. Попробуйте ещё раз через минуту.",
    ),
}

# ESIA's ``error`` values on the callback (RFC 6749 section 4.1.2.1) and our page for each.
ESIA_ERRORS: Final[dict[str, str]] = {
    "access_denied": "sign_in.declined",
    "temporarily_unavailable": "sign_in.esia_busy",
    "server_error": "sign_in.esia_busy",
}

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}"
    "main{max-width:520px;margin:10vh auto;background:#fff;border-radius:12px;padding:32px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.08)}h1{font-size:22px;margin:0 0 12px}"
    ".button{display:inline-block;background:#0d4cd3;color:#fff;border:0;border-radius:8px;"
    "padding:12px 20px;font:inherit;text-decoration:none;cursor:pointer}"
    ".muted{color:#69707d;font-size:14px}"
)


def page(title: str, body: str, *, status: int = 200) -> web.Response:
    """A whole HTML page; ``body`` is HTML already escaped by the caller."""
    document = (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Звонок</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return web.Response(
        text=document,
        status=status,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'; frame-ancestors 'none'",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


def sign_in_button(return_to: str = "/") -> str:
    from urllib.parse import quote

    href = f"{SIGN_IN_PATH}?return_to={quote(return_to, safe='/')}"
    return f'<p><a class="button" href="{html.escape(href)}">Войти через Госуслуги</a></p>'


def refusal(code: str, *, status: int = 400, esia_code: str | None = None) -> web.Response:
    """The page for a refused sign-in (``code`` from :data:`TEXTS`), with a way to try again."""
    title, text = TEXTS.get(code, TEXTS["sign_in.failed"])
    detail = ""
    if esia_code:
        detail = f'<p class="muted">Код ошибки Госуслуг: {html.escape(esia_code)}</p>'
    body = (
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{detail}"
        f"{sign_in_button()}"
        f'<p class="muted" data-code="{html.escape(code)}">{html.escape(code)}</p>'
    )
    return page(title, body, status=status)


def landing(full_name: str | None) -> web.Response:
    """``/``: who is signed in and «Выйти», or «Войти через Госуслуги»."""
    if full_name is None:
        body = (
            "<h1>Звонок</h1><p>Чаты класса, родительские собрания и уроки школы.</p>"
            f"{sign_in_button()}"
        )
        return page("Звонок", body)
    body = (
        f"<h1>Звонок</h1><p>Вы вошли как <strong>{html.escape(full_name)}</strong>.</p>"
        '<form method="post" action="/auth/logout">'
        '<button class="button" type="submit">Выйти</button></form>'
    )
    return page("Звонок", body)
