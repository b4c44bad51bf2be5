"""One token verification: GOST R 34.10-2012 against RS256, in the same run.

    .venv/bin/python bench/gost_verify.py [--runs 2000]

Each figure is the median (and 90th percentile) of ``--runs`` timed calls of
the production verifier with its memory of verified tokens turned off
(``cache_size=0``), so every call checks the signature:

- ``RS256``: a dev-IdP-shaped access token, RSA-2048, through joserfc and cryptography;
- ``GOST``: the same claims signed with GOST R 34.10-2012 (CryptoPro-A, Streebog-256);
- ``GOST, ESIA's published token``: tests/data/esia's authorization-code token checked
  against ESIA's test certificate at its own time (``verify_signed``);

then the parts of a GOST check (Streebog-256 by librhash and by gostcrypto,
the curve check by fastecdsa) and, for scale, ``gostcrypto``'s own pure-Python
verification (fewer runs: it is slow).  Bounded: about ``runs`` × 1 ms plus
10 gostcrypto verifications.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import gostcrypto  # noqa: E402

from server.auth import DevIdentityProvider, TokenVerifier, gost, streebog  # noqa: E402  # noqa: E402
from server.auth.gost_keys import pem_blocks, public_key_from_spki  # noqa: E402
from server.clock import ManualClock  # noqa: E402

DATA = REPO / "tests" / "data" / "esia"
ISSUER = "https://esia.dev-idp.zvonok.invalid/"
GOST = "GOST3410_2012_256"


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 90th percentile of ``runs`` calls, in milliseconds (after 20 warm-ups)."""
    for _ in range(min(20, runs)):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args(argv)
    runs: int = args.runs
    clock = ManualClock(start=1_800_000_000)

    with tempfile.TemporaryDirectory() as tmp:
        rsa_idp = DevIdentityProvider.load_or_create(
            Path(tmp) / "rsa", issuer=ISSUER, client_id="ZVONOK", clock=clock
        )
        gost_idp = DevIdentityProvider.load_or_create(
            Path(tmp) / "gost", issuer=ISSUER, client_id="ZVONOK", clock=clock, algorithm=GOST
        )
    rsa_verifier = TokenVerifier(
        issuer=ISSUER,
        client_id="ZVONOK",
        certificates=[rsa_idp.certificate_pem],
        clock=clock,
        cache_size=0,
    )
    gost_verifier = TokenVerifier(
        issuer=ISSUER,
        client_id="ZVONOK",
        certificates=[gost_idp.certificate_pem],
        clock=clock,
        algorithms=[GOST],
        cache_size=0,
    )
    rsa_token = rsa_idp.issue(1000299654)
    gost_token = gost_idp.issue(1000299654)

    esia_token = (DATA / "gost_authcode_2020-05_ekapusta.jwt").read_text().strip()
    esia_verifier = TokenVerifier(
        issuer="http://esia.gosuslugi.ru/",
        client_id="MNSV36",
        certificates=[(DATA / "gost_test_2019-07_sn720b0156.pem").read_bytes()],
        clock=ManualClock(start=1590836931 + 60),
        algorithms=[GOST],
        cache_size=0,
    )

    head, body, signature_b64 = gost_token.split(".")
    signed = f"{head}.{body}".encode()
    signature = base64.urlsafe_b64decode(signature_b64 + "==")
    key = public_key_from_spki(pem_blocks(gost_idp.certificate_pem)[0].der)
    r, s = gost.split_signature(signature) or (0, 0)
    e = gost.digest_number(streebog.streebog256(signed))

    rows: list[tuple[str, tuple[float, float], int]] = []
    rows.append(
        ("RS256 (verifier, RSA-2048)", timed(lambda: rsa_verifier.verify(rsa_token), runs), runs)
    )
    rows.append(
        (
            "GOST (verifier, dev IdP token)",
            timed(lambda: gost_verifier.verify(gost_token), runs),
            runs,
        )
    )
    rows.append(
        (
            "GOST (verifier, ESIA's published token)",
            timed(
                lambda: esia_verifier.verify_signed(esia_token, token_type="authorization_code"),  # noqa: S106
                runs,
            ),
            runs,
        )
    )
    rows.append(
        (
            f"  Streebog-256, librhash ({len(signed)} B)",
            timed(lambda: streebog.streebog256(signed), runs),
            runs,
        )
    )
    rows.append(
        (
            f"  Streebog-256, gostcrypto ({len(signed)} B)",
            timed(lambda: streebog.reference_streebog256(signed), 50),
            50,
        )
    )
    rows.append(
        ("  curve check, fastecdsa", timed(lambda: gost.verify_number(key, e, r, s), runs), runs)
    )

    curve = gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019[
        "id-tc26-gost-3410-2012-256-paramSetB"
    ]
    signer = gostcrypto.gostsignature.new(gostcrypto.gostsignature.MODE_256, curve)
    public = bytearray(key.x.to_bytes(32, "big") + key.y.to_bytes(32, "big"))

    def reference() -> None:
        digest = bytearray(streebog.reference_streebog256(signed)[::-1])
        if not signer.verify(public, digest, bytearray(signature[32:] + signature[:32])):
            raise AssertionError("gostcrypto refused a good signature")

    rows.append(("gostcrypto verify (pure Python, for scale)", timed(reference, 10), 10))

    rs256 = rows[0][1][0]
    print(f"Streebog implementation: {streebog.IMPLEMENTATION}; Python {sys.version.split()[0]}")
    print(f"{'what':46} {'runs':>6} {'median ms':>10} {'p90 ms':>8} {'× RS256':>8}")
    for name, (median, p90), n in rows:
        print(f"{name:46} {n:6d} {median:10.3f} {p90:8.3f} {median / rs256:8.1f}")
    gost_median = rows[1][1][0]
    print(
        f"GOST / RS256 median ratio: {gost_median / rs256:.1f}; GOST median under 5 ms: "
        f"{'yes' if gost_median < 5 else 'NO'}"
    )
    return 0 if gost_median < 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
