from __future__ import annotations

from pathlib import Path

import pytest

from server.config import DEV_ISSUER, load_config
from server.errors import ConfigError


def test_defaults_run_the_embedded_mode() -> None:
    config = load_config(env={})
    assert config.mode == "embedded"
    assert config.dev_idp.enabled and config.storage.seed_demo
    assert (config.http.host, config.http.port) == ("127.0.0.1", 8080)
    assert config.esia.issuer == DEV_ISSUER


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "z.toml"
    path.write_text('[http]\nport = 9000\nhost = "0.0.0.0"\n[protocol]\nheartbeat = 5.0\n')
    config = load_config(path, env={"ZVONOK_HTTP_PORT": "9100"})
    assert config.http.port == 9100
    assert config.http.host == "0.0.0.0"
    assert config.protocol.heartbeat == 5.0


def test_production_refuses_the_development_identity_provider(tmp_path: Path) -> None:
    cert = tmp_path / "esia.pem"
    cert.write_text("placeholder")
    env = {
        "ZVONOK_MODE": "production",
        "ZVONOK_ESIA_ISSUER": "http://esia.gosuslugi.ru/",
        "ZVONOK_ESIA_CERTIFICATES": str(cert),
        "ZVONOK_DEV_IDP_ENABLED": "true",
    }
    with pytest.raises(ConfigError, match="development identity provider"):
        load_config(env=env)
    del env["ZVONOK_DEV_IDP_ENABLED"]
    config = load_config(env=env)  # off by default in production
    assert not config.dev_idp.enabled and not config.storage.seed_demo
    assert config.esia.certificates == (cert,)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ZVONOK_MODE": "production", "ZVONOK_ESIA_ISSUER": "http://esia.gosuslugi.ru/"},
            "certificates",
        ),
        ({"ZVONOK_MODE": "production"}, "issuer"),
        ({"ZVONOK_MODE": "staging"}, "mode"),
        ({"ZVONOK_HTTP_PORT": "eighty"}, "http.port"),
        ({"ZVONOK_DEV_IDP_ENABLED": "maybe"}, "dev_idp.enabled"),
        ({"ZVONOK_PROTOCOL_MAX_FRAME": "10"}, "max_frame"),
        ({"ZVONOK_DEV_IDP_ALGORITHM": "GOST3410_2012_256"}, "esia. algorithms"),
        ({"ZVONOK_ESIA_VERIFY_WORKERS": "-1"}, "verify_workers"),
        ({"ZVONOK_ESIA_VERIFY_QUEUE": "0"}, "verify_queue"),
        ({"ZVONOK_ESIA_VERIFIED_CACHE": "-5"}, "verified_cache"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env=env)


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "z.toml"
    path.write_text("[http]\nprot = 1\n")
    with pytest.raises(ConfigError, match=r"http\.prot"):
        load_config(path, env={})


def test_production_file_without_mode_dependent_keys_gets_production_defaults(
    tmp_path: Path,
) -> None:
    cert = tmp_path / "esia.pem"
    cert.write_text("placeholder")
    path = tmp_path / "z.toml"
    path.write_text(
        'mode = "production"\n[storage]\ndatabase = "sqlite:///var/lib/zvonok/z.db"\n'
        f'[esia]\nissuer = "http://esia.gosuslugi.ru/"\ncertificates = ["{cert}"]\n'
        "[dev_idp]\ntoken_lifetime = 600.0\n"
    )
    config = load_config(path, env={})
    assert not config.storage.seed_demo
    assert not config.dev_idp.enabled


def test_media_lists_of_urls_come_comma_separated_from_the_environment() -> None:
    env = {
        "ZVONOK_MEDIA_TURN_URLS": "turn:turn.example:3478?transport=udp,turns:turn.example:5349",
        "ZVONOK_MEDIA_TURN_SECRET": "s3cret",
    }
    config = load_config(None, env)
    assert config.media.turn_urls == (
        "turn:turn.example:3478?transport=udp",
        "turns:turn.example:5349",
    )


def test_turn_urls_without_a_secret_do_not_start() -> None:
    with pytest.raises(ConfigError, match="turn_secret"):
        load_config(None, {"ZVONOK_MEDIA_TURN_URLS": "turn:turn.example:3478"})


def test_gost_sign_in_is_chosen_by_configuration() -> None:
    config = load_config(
        env={
            "ZVONOK_ESIA_ALGORITHMS": "RS256,GOST3410_2012_256",
            "ZVONOK_DEV_IDP_ALGORITHM": "GOST3410_2012_256",
            "ZVONOK_ESIA_VERIFY_WORKERS": "2",
        }
    )
    assert config.esia.algorithms == ("RS256", "GOST3410_2012_256")
    assert config.dev_idp.algorithm == "GOST3410_2012_256"
    assert config.esia.verify_workers == 2
    assert load_config(env={}).esia.algorithms == ("RS256",)
