"""Configuration: defaults, a TOML file, then environment variables.

Every setting has a default that runs the embedded mode on one machine.  A
TOML file (``--config`` or ``ZVONOK_CONFIG``) overrides the defaults, and an
environment variable ``ZVONOK_<SECTION>_<KEY>`` (``ZVONOK_HTTP_PORT=8081``)
overrides the file.  The reference table is in the README.

Production mode refuses to start with the development identity provider on,
and requires ESIA's issuer, our client_id and at least one certificate.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import ConfigError

Mode = Literal["embedded", "production"]

DEV_ISSUER = "https://esia.dev-idp.zvonok.invalid/"
"""The dev identity provider's issuer: a reserved TLD, never a real ESIA."""


@dataclass(frozen=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # Seconds a connection has to send a whole request head, counted from its
    # opening or from the end of the previous response (so also how long an
    # idle keep-alive connection is kept).
    request_timeout: float = 10.0
    # Connections not yet signed in (no welcomed hello) held at once; past it
    # the oldest of them is closed.
    max_pending: int = 1000
    # Seconds a request's whole body has to arrive in, from the start of its
    # handler; then it is refused (408 http.body_timeout) and the connection
    # closed.  A 16 MiB roster file needs about 2.2 Mbit/s to make it.
    body_timeout: float = 60.0
    # HTTP requests of one signed-in person in progress at once, on this node.
    max_person_requests: int = 8
    # The bearer token Prometheus presents at /metrics; empty: loopback peers only.
    metrics_token: str = ""


@dataclass(frozen=True)
class StorageConfig:
    database: str = "sqlite:var/zvonok.db"
    seed_demo: bool = True
    # Seconds an idempotency key is kept (docs/chats.md, "Retention"), and
    # between two sweeps of what may go.
    idempotency_retention: float = 86400.0
    sweep_interval: float = 3600.0


@dataclass(frozen=True)
class EsiaConfig:
    issuer: str = DEV_ISSUER
    client_id: str = "ZVONOK"
    certificates: tuple[Path, ...] = ()
    leeway: float = 30.0
    expiry_warning: float = 60.0
    # The JWS algorithms accepted; ESIA signs with GOST3410_2012_256 (docs/auth.md).
    algorithms: tuple[str, ...] = ("RS256",)
    # GOST checks run in this many worker processes (0: on the event loop).
    verify_workers: int = 1
    # Checks outstanding at once; past it a sign-in is answered auth.busy (retry).
    verify_queue: int = 1000
    # Tokens remembered as verified until they expire (0: none, each use verified again).
    verified_cache: int = 10_000
    # Zvonok as ESIA's relying party (docs/auth.md, "Signing in through ESIA").
    # ESIA's base URL (https://esia.gosuslugi.ru/); empty: the dev provider's local
    # ESIA on this server (/dev-esia/), which needs [dev_idp] enabled.
    portal_url: str = ""
    scope: str = "openid fullname birthdate"
    # Our system's signing key (PKCS#8 PEM: GOST R 34.10-2012, or RSA for the dev
    # provider) and its certificate as registered at ESIA; empty with the dev
    # provider: a development RSA pair kept in [dev_idp] directory.
    signing_key: str = ""
    signing_certificate: str = ""
    # What cpverify printed, if it differs from the computed Streebog-256 of the DER.
    client_certificate_hash: str = ""
    # Seconds a token request to ESIA may take, connection included.
    request_timeout: float = 10.0


@dataclass(frozen=True)
class DevIdpConfig:
    enabled: bool = True
    directory: Path = Path("var/dev-idp")
    token_lifetime: float = 3600.0
    algorithm: str = "RS256"  # or GOST3410_2012_256, as ESIA; must be in [esia] algorithms
    # The local ESIA: seconds an authorization code lives, and a refresh token.
    code_lifetime: float = 60.0
    refresh_lifetime: float = 8 * 3600.0


@dataclass(frozen=True)
class WebConfig:
    """The browser's sign-in and its session (server/signin/web.py)."""

    # The origin browsers reach Zvonok at (https://zvonok.school.example); the
    # callback is <public_url>/auth/callback and the Origin checks compare with
    # it.  Empty: http://<http.host>:<http.port>, for the embedded mode only.
    public_url: str = ""
    # Seconds a browser has from «Войти» to coming back from ESIA.
    sign_in_timeout: float = 600.0
    # Seconds a session lasts at most, however often its ESIA token is renewed.
    session_lifetime: float = 12 * 3600.0
    # Seconds before the ESIA access token expires that the server renews it.
    renew_before: float = 120.0


@dataclass(frozen=True)
class ProtocolConfig:
    max_frame: int = 64 * 1024
    max_text: int = 4096
    hello_timeout: float = 10.0
    heartbeat: float = 20.0
    frames_per_second: float = 20.0
    frame_burst: int = 60
    max_protocol_errors: int = 10
    outbound_queue: int = 256
    # Signed-in WebSocket sessions of one person at once, on this node; a
    # new one past it closes that person's oldest (session.too_many).
    max_sessions: int = 12


@dataclass(frozen=True)
class ChatConfig:
    # Send limits by role (docs/safety.md): per person over all their chats,
    # connections and the HTTP API, and per person in one chat.  The plain
    # names are the parents' (and everyone else's who is neither a student
    # nor a teacher or admin of the chat's school).
    sends_per_second: float = 2.0
    send_burst: int = 20
    chat_per_second: float = 0.5
    chat_burst: int = 10
    student_sends_per_second: float = 1.0
    student_send_burst: int = 10
    student_chat_per_second: float = 0.2
    student_chat_burst: int = 5
    staff_sends_per_second: float = 5.0
    staff_send_burst: int = 50
    staff_chat_per_second: float = 2.0
    staff_chat_burst: int = 30
    sync_limit: int = 1000  # a resume further behind than this gets a ``gap`` instead
    history_page: int = 200  # the most events one history request returns


@dataclass(frozen=True)
class SafetyConfig:
    roster_poll: float = 2.0  # seconds: how soon an import by another process reaches connections
    # Roster uploads through the server, per person, accepted or refused:
    # a flood cannot grow the audit log (every refusal is a row) without bound.
    roster_uploads_per_hour: float = 60.0
    roster_upload_burst: int = 10


@dataclass(frozen=True)
class MediaConfig:
    """The SFU's network side and the ICE servers handed to clients."""

    # Addresses the SFU gathers ICE host candidates on; empty: every interface but loopback.
    ice_addresses: tuple[str, ...] = ()
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()  # e.g. turn:turn.school.example:3478?transport=udp
    turn_secret: str = ""  # coturn's static-auth-secret (use-auth-secret); empty: no TURN
    turn_ttl: int = 6 * 3600  # seconds a TURN credential stays valid
    keyframe_interval: float = 0.5  # at most one keyframe request per publisher this often
    speaker_interval: float = 0.3  # how often active-speaker changes are looked for


@dataclass(frozen=True)
class RoomsConfig:
    """Lessons and parent meetings."""

    grace: float = 30.0  # seconds a participant whose network failed keeps their place
    max_participants: int = 60


@dataclass(frozen=True)
class BusConfig:
    """How a node hears what other nodes did (docs/architecture.md, "The bus")."""

    # redis://host:6379/0 for several nodes sharing one Redis; empty: this
    # process only (the embedded default's in-process bus).
    url: str = ""
    # Seconds a node's word that someone is online lasts unless renewed (every
    # third of it): how long the people of a node that died still show online.
    presence_ttl: float = 30.0


@dataclass(frozen=True)
class Config:
    mode: Mode = "embedded"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object per line, for log collectors
    http: HttpConfig = field(default_factory=HttpConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    esia: EsiaConfig = field(default_factory=EsiaConfig)
    dev_idp: DevIdpConfig = field(default_factory=DevIdpConfig)
    web: WebConfig = field(default_factory=WebConfig)
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    chat: ChatConfig = field(default_factory=ChatConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    rooms: RoomsConfig = field(default_factory=RoomsConfig)
    bus: BusConfig = field(default_factory=BusConfig)

    def validate(self) -> None:
        """Raise :class:`ConfigError` for a configuration that must not run."""
        h = self.http
        if not 0 < h.request_timeout <= 3600 or h.max_pending < 1:
            raise ConfigError("http: request_timeout in (0, 3600] seconds, max_pending >= 1")
        s = self.storage
        if s.idempotency_retention < 3600 or s.sweep_interval <= 0:
            raise ConfigError("storage: idempotency_retention >= 3600 seconds, sweep_interval > 0")
        if not 0 < h.body_timeout <= 3600 or h.max_person_requests < 1:
            raise ConfigError("http: body_timeout in (0, 3600] seconds, max_person_requests >= 1")
        sa = self.safety
        if sa.roster_poll <= 0 or sa.roster_uploads_per_hour <= 0 or sa.roster_upload_burst < 1:
            raise ConfigError(
                "safety: roster_poll > 0, roster_uploads_per_hour > 0, roster_upload_burst >= 1"
            )
        m = self.media
        if m.turn_urls and not m.turn_secret:
            raise ConfigError("media: turn_urls need turn_secret (coturn's static-auth-secret)")
        if m.turn_ttl < 60 or m.keyframe_interval <= 0 or m.speaker_interval <= 0:
            raise ConfigError("media: turn_ttl >= 60, keyframe_interval and speaker_interval > 0")
        if self.rooms.grace < 0 or self.rooms.max_participants < 2:
            raise ConfigError("rooms: grace >= 0, max_participants >= 2")
        if self.bus.url and not self.bus.url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("bus: url must be redis://, rediss:// or unix://, or empty")
        if self.bus.presence_ttl <= 0:
            raise ConfigError("bus: presence_ttl > 0")
        e = self.esia
        if not e.algorithms or e.verify_workers < 0 or e.verify_queue < 1 or e.verified_cache < 0:
            raise ConfigError(
                "esia: algorithms not empty, verify_workers >= 0, verify_queue >= 1, "
                "verified_cache >= 0"
            )
        if self.dev_idp.enabled and self.dev_idp.algorithm not in e.algorithms:
            raise ConfigError(
                f"dev_idp: algorithm {self.dev_idp.algorithm!r} is not among [esia] algorithms "
                f"{list(e.algorithms)}; add it (ZVONOK_ESIA_ALGORITHMS)"
            )
        if self.mode not in ("embedded", "production"):
            raise ConfigError(f"mode: expected 'embedded' or 'production', got {self.mode!r}")
        if self.mode == "production":
            if self.dev_idp.enabled:
                raise ConfigError(
                    "the development identity provider is enabled in production mode; "
                    "set [dev_idp] enabled = false (ZVONOK_DEV_IDP_ENABLED=false)"
                )
            if self.esia.issuer == DEV_ISSUER:
                raise ConfigError("production mode needs [esia] issuer (ESIA's issuer URL)")
            if not self.esia.certificates:
                raise ConfigError("production mode needs [esia] certificates (ESIA's PEM files)")
            if self.storage.seed_demo:
                raise ConfigError("production mode must not seed the demo school")
        elif not self.dev_idp.enabled and not self.esia.certificates:
            raise ConfigError("no way to sign in: enable [dev_idp] or name [esia] certificates")
        self._validate_sign_in()
        p = self.protocol
        if p.max_frame < 1024 or p.heartbeat <= 0 or p.hello_timeout <= 0:
            raise ConfigError("protocol: max_frame >= 1024, heartbeat and hello_timeout > 0")
        if p.outbound_queue < 8 or p.frame_burst < 1 or p.frames_per_second <= 0:
            raise ConfigError("protocol: outbound_queue >= 8, frame_burst >= 1, rate > 0")
        if p.max_sessions < 1:
            raise ConfigError("protocol: max_sessions >= 1")
        c = self.chat
        rates = [v for k, v in dataclasses.asdict(c).items() if k.endswith("per_second")]
        counts = [v for k, v in dataclasses.asdict(c).items() if k.endswith("burst")]
        if min(rates) <= 0 or min(counts) < 1 or c.sync_limit < 1 or c.history_page < 1:
            raise ConfigError(
                "chat: every *_per_second > 0; every *_burst, sync_limit, history_page >= 1"
            )

    def _validate_sign_in(self) -> None:
        e, w, d = self.esia, self.web, self.dev_idp
        if w.public_url and not _is_origin(w.public_url):
            raise ConfigError(
                "web: public_url must be an origin, like https://zvonok.school.example"
            )
        if e.portal_url and urlsplit(e.portal_url).scheme not in ("http", "https"):
            raise ConfigError(
                "esia: portal_url must be an http(s) URL, like https://esia.gosuslugi.ru/"
            )
        if bool(e.signing_key) != bool(e.signing_certificate):
            raise ConfigError("esia: signing_key and signing_certificate go together")
        if e.portal_url and not e.signing_key:
            raise ConfigError("esia: a portal_url needs signing_key and signing_certificate")
        if e.request_timeout <= 0 or w.sign_in_timeout <= 0 or w.renew_before < 0:
            raise ConfigError("esia.request_timeout and web.sign_in_timeout > 0, renew_before >= 0")
        if w.session_lifetime <= 0 or d.code_lifetime <= 0 or d.refresh_lifetime <= 0:
            raise ConfigError("web.session_lifetime, dev_idp code and refresh lifetimes > 0")
        if self.mode == "production" and self.browser_sign_in:
            if not w.public_url.startswith("https://"):
                raise ConfigError("production mode needs [web] public_url, an https:// origin")
            if not e.portal_url.startswith("https://"):
                raise ConfigError("production mode needs [esia] portal_url, ESIA's https:// URL")

    @property
    def browser_sign_in(self) -> bool:
        """Whether browsers sign in here: through ESIA (``portal_url``) or the local ESIA."""
        return bool(self.esia.portal_url) or self.dev_idp.enabled

    @property
    def public_url(self) -> str:
        """The origin browsers reach this server at, without a trailing slash."""
        if self.web.public_url:
            return self.web.public_url.rstrip("/")
        host = self.http.host
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding it
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.http.port}"

    @property
    def portal_url(self) -> str:
        """ESIA's base URL, with a trailing slash: the configured one, or the local ESIA."""
        if self.esia.portal_url:
            return self.esia.portal_url.rstrip("/") + "/"
        return f"{self.public_url}{LOCAL_ESIA_PREFIX}/"


LOCAL_ESIA_PREFIX = "/dev-esia"
"""Where the embedded local ESIA is mounted on this server."""


def _is_origin(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
        and parts.username is None
    )


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from defaults, the TOML file and the environment."""
    env = os.environ if env is None else env
    if path is None and env.get("ZVONOK_CONFIG"):
        path = Path(env["ZVONOK_CONFIG"])
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
    config: Config = _build(Config, data, "", env)
    if config.mode == "production":
        # Two defaults depend on the mode: production neither seeds the demo
        # school nor runs the development identity provider unless told to.
        if not _given(data, env, "storage", "seed_demo"):
            config = dataclasses.replace(
                config, storage=dataclasses.replace(config.storage, seed_demo=False)
            )
        if not _given(data, env, "dev_idp", "enabled"):
            config = dataclasses.replace(
                config, dev_idp=dataclasses.replace(config.dev_idp, enabled=False)
            )
    config.validate()
    return config


def _given(data: Mapping[str, Any], env: Mapping[str, str], section: str, key: str) -> bool:
    """Whether the file or the environment sets ``section.key`` explicitly."""
    table = data.get(section)
    in_file = isinstance(table, Mapping) and key in table
    return in_file or f"ZVONOK_{section}_{key}".upper() in env


def _build(cls: type[Any], data: Mapping[str, Any], prefix: str, env: Mapping[str, str]) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"[{prefix.rstrip('.') or 'top'}]: expected a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown setting(s) {prefix}{', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        name = f"{prefix}{f.name}"
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            values[f.name] = _build(hint, data.get(f.name, {}), f"{name}.", env)
            continue
        env_key = "ZVONOK_" + name.replace(".", "_").upper()
        if env_key in env:
            values[f.name] = _coerce(hint, env[env_key], name, from_env=True)
        elif f.name in data:
            values[f.name] = _coerce(hint, data[f.name], name, from_env=False)
    return cls(**values)


def _coerce(hint: Any, raw: Any, name: str, *, from_env: bool) -> Any:
    origin = typing.get_origin(hint)
    try:
        if hint is bool:
            if from_env:
                if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(raw)
                return raw.lower() in ("1", "true", "yes", "on")
            if not isinstance(raw, bool):
                raise ValueError(raw)
            return raw
        if hint is int or hint is float:
            if isinstance(raw, bool):
                raise ValueError(raw)
            return hint(raw)
        if hint is str or origin is Literal:
            if not isinstance(raw, str):
                raise ValueError(raw)
            if origin is Literal and raw not in typing.get_args(hint):
                raise ValueError(raw)
            return raw
        if hint is Path:
            if not isinstance(raw, str):
                raise ValueError(raw)
            return Path(raw)
        if origin is tuple or isinstance(hint, types.GenericAlias):
            item_type = typing.get_args(hint)[0]
            # URLs hold colons, so lists of strings are comma-separated in the environment.
            separator = "," if item_type is str else os.pathsep
            items = raw.split(separator) if from_env else raw
            if not isinstance(items, list | tuple):
                raise ValueError(raw)
            if item_type is str:
                return tuple(str(i) for i in items if str(i))
            return tuple(Path(str(i)) for i in items if str(i))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{name}: invalid value {raw!r}") from exc
    raise ConfigError(f"{name}: unsupported setting type {hint!r}")
