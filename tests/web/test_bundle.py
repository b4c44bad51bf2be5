"""What the page loads first is small: under 100 KiB of JavaScript, gzipped (issue 15).

A parent on a slow mobile network waits for that before seeing anything.
Counted from the built page's own script tags, so a new entry point or a
library bundled into the first chunk is counted too; code loaded later by
dynamic import is not.
"""

from __future__ import annotations

import gzip
import re

from server.webclient import DIST

LIMIT = 100 * 1024


def test_the_first_javascript_is_under_100_kib_gzipped() -> None:
    page = (DIST / "index.html").read_text("utf-8")
    scripts = re.findall(r'<script[^>]*\bsrc="/assets/([^"]+)"', page)
    preloads = re.findall(r'<link[^>]*rel="modulepreload"[^>]*href="/assets/([^"]+)"', page)
    assert scripts, "the built page loads no script"
    total = sum(
        len(gzip.compress((DIST / "assets" / name).read_bytes(), 9)) for name in scripts + preloads
    )
    assert total < LIMIT, f"{total} bytes gzipped"
