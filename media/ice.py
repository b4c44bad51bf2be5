"""ICE servers for clients, with time-limited TURN credentials.

A browser behind a strict NAT or a school firewall that lets only a few ports
out reaches the SFU through a TURN relay.  We run coturn for that and never
store a TURN password per person: coturn and Zvonok share one secret
(coturn's ``use-auth-secret`` with ``static-auth-secret``, our
``media.turn_secret``), and Zvonok mints a credential per person that coturn
checks by recomputing it.  This is the "TURN REST API" scheme
(draft-uberti-behave-turn-rest):

* username: ``"<expiry>:<oid>"``, the expiry in Unix seconds;
* password: ``base64(HMAC-SHA1(key=secret, msg=username))``.

coturn reads the expiry out of the username itself: it takes the part before
the first ``:`` (its ``rest-api-separator``) as the expiry when that part is
all digits, and otherwise the part after it.  Our expiry always comes first,
as digits, so the oid after it is never read as a time, only signed.  coturn
refuses a username whose expiry has passed (401), and since the HMAC covers
the whole username, neither the expiry nor the oid can be changed without the
secret.  The expiry bounds when a relay can be opened: coturn keeps the key of
a session it accepted, so an allocation made before the expiry goes on
relaying after it (tests/media/test_ice.py checks both against coturn).

The oid in the username lets an operator see whose relay it is in coturn's
log.  ``turn_ttl`` (six hours by default) bounds how long a leaked credential
opens relays; it should cover a school day, since a client that reconnects
after the expiry needs fresh ICE servers.

Nothing here logs: a credential and the dict that carries it are as good as a
TURN account until they expire, and the secret mints them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

from server.config import MediaConfig
from signaling.rooms import IceServer


@dataclass(frozen=True)
class TurnCredential:
    """One person's TURN username and password, valid until ``expires_at``."""

    username: str
    password: str = field(repr=False)  # kept out of reprs and so out of logs
    expires_at: int  # Unix seconds; coturn refuses the username after this


def turn_credential(secret: str, person: int | str, now: float, ttl: int) -> TurnCredential:
    """A TURN credential for ``person`` that coturn accepts for ``ttl`` seconds from ``now``.

    ``secret`` is coturn's ``static-auth-secret``; ``now`` is wall-clock Unix
    seconds from the server's clock (coturn compares the expiry with its own).
    """
    if not secret:
        raise ValueError("a TURN credential needs the shared secret")
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    expires_at = int(now) + ttl
    username = f"{expires_at}:{person}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredential(username, base64.b64encode(digest).decode("ascii"), expires_at)


def ice_servers(config: MediaConfig, person: int, now: float) -> list[IceServer]:
    """The ``iceServers`` list for ``person``'s ``RTCPeerConnection``, as of ``now``.

    One entry for the STUN URLs if any are set, and one for the TURN URLs with
    a fresh credential if URLs and ``turn_secret`` are both set.  Empty when
    neither is: clients then use host candidates only.  The TURN entry carries
    a live credential: send it to ``person`` only, never to a log.
    """
    servers: list[IceServer] = []
    if config.stun_urls:
        servers.append({"urls": list(config.stun_urls)})
    if config.turn_urls and config.turn_secret:
        credential = turn_credential(config.turn_secret, person, now, config.turn_ttl)
        servers.append(
            {
                "urls": list(config.turn_urls),
                "username": credential.username,
                "credential": credential.password,
                "credentialType": "password",
            }
        )
    return servers
