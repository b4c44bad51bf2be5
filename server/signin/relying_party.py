"""Zvonok as ESIA's relying party: the authorization-code flow, server side.

ESIA's current endpoints, as its methodological recommendations («Методические
рекомендации по использованию ЕСИА», the version that introduced ``v2/ac``
and ``v3/te``) describe them and ilimurzin/esia 4.x and ofstudio/go-api-epgu
implement them:

* the browser goes to ``<portal>/aas/oauth2/v2/ac`` with ``client_id``,
  ``client_secret``, ``redirect_uri``, ``scope``, ``response_type=code``,
  ``state`` (a UUID), ``timestamp``, ``access_type`` (``offline``: we want a
  refresh token) and ``client_certificate_hash``;
* ``client_secret`` is our signature (:mod:`server.auth.signer`) over the
  concatenation ``client_id ‖ scope ‖ timestamp ‖ state ‖ redirect_uri``, with
  nothing between them (ilimurzin puts ``scope_org`` after ``scope``; we ask
  for no organisation scopes, so it is empty);
* ``timestamp`` is ``yyyy.MM.dd HH:mm:ss ±hhmm`` (``2025.12.29 17:47:23 +0000``);
* ESIA sends the browser back to ``redirect_uri`` with ``code`` and ``state``,
  or with ``error``, ``error_description`` and ``state`` (a person who
  declines the consent comes back with ``error=access_denied``);
* the code is exchanged by a form POST to ``<portal>/aas/oauth2/v3/te`` with
  ``client_id``, ``code``, ``grant_type=authorization_code``, a *new*
  ``state``, ``redirect_uri``, ``scope``, ``timestamp``, ``token_type=Bearer``,
  ``client_certificate_hash`` and ``client_secret`` signed over the same
  concatenation followed by the ``code``;
* the answer is JSON with ``access_token``, ``id_token``, ``refresh_token``,
  ``expires_in``, ``state`` (the new one, echoed: checked) and
  ``token_type``, or ``error`` and ``error_description``;
* renewal is the same POST with ``grant_type=refresh_token`` and
  ``refresh_token``, its ``client_secret`` signed as for ``v2/ac`` (no code),
  as ilimurzin/esia 4.x's ``refreshToken`` does.

The older ``/aas/oauth2/ac`` and ``/te`` (ekapusta/oauth2-esia, LdDl/esia-potato)
sign ``scope ‖ timestamp ‖ client_id ‖ state`` as CMS/PKCS#7; they are not
used here.  What the tokens say is checked by
:class:`~server.auth.tokens.TokenVerifier`, not here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp

from server.auth.signer import RequestSigner, encode_secret
from server.clock import Clock
from server.errors import ZvonokError

log = logging.getLogger(__name__)

AUTHORIZE_PATH: Final = "aas/oauth2/v2/ac"
TOKEN_PATH: Final = "aas/oauth2/v3/te"  # noqa: S105 - a path, not a secret
LOGOUT_PATH: Final = "idp/ext/Logout"
TIMESTAMP_FORMAT: Final = "%Y.%m.%d %H:%M:%S %z"
MAX_RESPONSE: Final = 64 * 1024
"""Bytes of a token response read at most (three tokens and a few fields)."""

_ESIA_CODE = re.compile(r"ESIA-\d{6}")


def esia_timestamp(now: float) -> str:
    """``timestamp`` as ESIA wants it: ``2025.12.29 17:47:23 +0000``."""
    return datetime.fromtimestamp(now, UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> float | None:
    """The time an ESIA ``timestamp`` names, or None if it is not one."""
    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT).timestamp()
    except (ValueError, TypeError):
        return None


def signed_message(
    client_id: str, scope: str, timestamp: str, state: str, redirect_uri: str, code: str = ""
) -> bytes:
    """What ``client_secret`` signs: the parameters concatenated, UTF-8, in ESIA's order."""
    return "".join((client_id, scope, timestamp, state, redirect_uri, code)).encode("utf-8")


def esia_code(description: str) -> str | None:
    """The ``ESIA-NNNNNN`` code an ``error_description`` starts with, if any."""
    found = _ESIA_CODE.search(description or "")
    return found.group(0) if found else None


class EsiaRefusal(ZvonokError):
    """ESIA answered a token request with ``error`` (or with nonsense).

    ``error`` and ``esia_code`` are ESIA's (``invalid_grant``, ``ESIA-007011``);
    they are logged and shown, the description is only logged.
    """

    http_status = 502

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__("esia.refused", f"ESIA refused the request: {error}")
        self.error = error
        self.esia_code = esia_code(description)


class EsiaUnavailable(ZvonokError):
    """ESIA could not be reached, or did not answer in time: nothing was decided."""

    http_status = 503
    retry_after = 5.0

    def __init__(self) -> None:
        super().__init__("esia.unavailable", "ESIA does not answer; try again shortly")


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What ESIA's token endpoint handed over.  Never logged, never sent to a browser."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    id_token: str | None = field(repr=False)
    expires_in: float


class RelyingParty:
    """Builds our requests to ESIA and makes the token requests.

    ``portal_url`` is ESIA's base URL with a trailing slash; ``redirect_uri``
    our callback, exactly as registered at ESIA.  ``http`` is the client
    session the token requests go through (owned by the caller).
    """

    def __init__(
        self,
        *,
        client_id: str,
        scope: str,
        portal_url: str,
        redirect_uri: str,
        signer: RequestSigner,
        clock: Clock,
        http: aiohttp.ClientSession,
        timeout: float = 10.0,
    ) -> None:
        self.client_id = client_id
        self.scope = scope
        self.portal_url = portal_url
        self.redirect_uri = redirect_uri
        self._signer = signer
        self._clock = clock
        self._http = http
        self._timeout = timeout

    def authorization_url(self, state: str) -> str:
        """Where to send the browser to sign in, for this ``state``."""
        timestamp = esia_timestamp(self._clock.time())
        message = signed_message(self.client_id, self.scope, timestamp, state, self.redirect_uri)
        params = {
            "client_id": self.client_id,
            "client_secret": encode_secret(self._signer.sign(message)),
            "client_certificate_hash": self._signer.certificate_hash,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "response_type": "code",
            "state": state,
            "access_type": "offline",
            "timestamp": timestamp,
        }
        return f"{self.portal_url}{AUTHORIZE_PATH}?{urlencode(params)}"

    def logout_url(self, redirect_url: str) -> str:
        """Where to send the browser to end its Gosuslugi session too, and come back.

        ESIA's ``idp/ext/Logout`` with our ``client_id`` and ``redirect_url``
        (as ilimurzin/esia's ``buildLogoutUrl`` and ekapusta/oauth2-esia do):
        without it, on a school's shared PC, the next pupil's «Войти» would
        find the previous one still signed in at ESIA.
        """
        params = {"client_id": self.client_id, "redirect_url": redirect_url}
        return f"{self.portal_url}{LOGOUT_PATH}?{urlencode(params)}"

    async def exchange(self, code: str) -> TokenSet:
        """The tokens for an authorization code (``v3/te``, ``authorization_code``)."""
        return await self._token_request({"grant_type": "authorization_code", "code": code}, code)

    async def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens for a refresh token (``v3/te``, ``refresh_token``)."""
        return await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, ""
        )

    async def _token_request(self, grant: dict[str, str], code: str) -> TokenSet:
        state = str(uuid.uuid4())
        timestamp = esia_timestamp(self._clock.time())
        message = signed_message(
            self.client_id, self.scope, timestamp, state, self.redirect_uri, code
        )
        form = {
            "client_id": self.client_id,
            **grant,
            "client_secret": encode_secret(self._signer.sign(message)),
            "client_certificate_hash": self._signer.certificate_hash,
            "state": state,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "timestamp": timestamp,
            "token_type": "Bearer",
        }
        try:
            async with asyncio.timeout(self._timeout):
                async with self._http.post(
                    f"{self.portal_url}{TOKEN_PATH}", data=form, allow_redirects=False
                ) as response:
                    body = await response.content.read(MAX_RESPONSE + 1)
                    status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("ESIA's token endpoint did not answer: %s", type(exc).__name__)
            raise EsiaUnavailable() from exc
        return _token_set(status, body, state)


def _token_set(status: int, body: bytes, state: str) -> TokenSet:
    """Read a token response; :class:`EsiaRefusal` for an error or anything malformed."""
    if len(body) > MAX_RESPONSE:
        raise EsiaRefusal("response_too_large")
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        log.warning("ESIA's token endpoint answered %d with no JSON object", status)
        if status >= 500:
            raise EsiaUnavailable()
        raise EsiaRefusal("malformed_response")
    error = data.get("error")
    if error is not None or status != 200:
        error_text = error if isinstance(error, str) and error else f"http_{status}"
        description = data.get("error_description")
        description = description if isinstance(description, str) else ""
        log.info("ESIA refused a token request: %s %s", error_text[:64], esia_code(description))
        raise EsiaRefusal(error_text[:64], description)
    if data.get("state") != state:
        raise EsiaRefusal("state_mismatch")
    token_type = data.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise EsiaRefusal("malformed_response")
    access, refresh, id_token = (data.get(k) for k in ("access_token", "refresh_token", "id_token"))
    expires_in = data.get("expires_in")
    if (
        not isinstance(access, str)
        or not access
        or not isinstance(refresh, str)
        or not refresh
        or not (id_token is None or (isinstance(id_token, str) and id_token))
        or isinstance(expires_in, bool)
        or not isinstance(expires_in, int | float)
        or not math.isfinite(expires_in)
        or expires_in <= 0
    ):
        raise EsiaRefusal("malformed_response")
    return TokenSet(access, refresh, id_token, float(expires_in))
