"""Media tests: every ICE candidate on 127.0.0.1."""

from __future__ import annotations

from media import aiortc_glue

# Process-wide, like the server's own setting: tests' peers gather on loopback only.
aiortc_glue.use_host_addresses(["127.0.0.1"])
