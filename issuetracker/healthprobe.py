"""The container's health probe: `python -m issuetracker.healthprobe`.

Standard library only, so a probe costs no Django start-up. It calls
`/api/health` on this container with a `Host` header the deployment's
`ALLOWED_HOSTS` accepts: a probe naming `127.0.0.1` would get Django's 400 for a
disallowed host as soon as production lists its real host names.
"""

import os
import sys
import urllib.error
import urllib.request

PROBE_TIMEOUT_SECONDS = 4.0
FALLBACK_HOST = "localhost"


def probe_host(allowed_hosts: str) -> str:
    """A host name that `ALLOWED_HOSTS` (comma-separated, as in the env) accepts.

    `.example.com` allows the domain itself; `*` allows anything.
    """
    for entry in allowed_hosts.split(","):
        host = entry.strip()
        if not host or host == "*":
            continue
        return host.removeprefix(".")
    return FALLBACK_HOST


def probe(*, port: str, allowed_hosts: str) -> bool:
    """Whether `/api/health` on this machine answers 200 within the probe's time."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/health",
        headers={"Host": probe_host(allowed_hosts), "X-Forwarded-Proto": "https"},
    )
    try:
        # A fixed http:// URL built above, never one from input.
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=PROBE_TIMEOUT_SECONDS
        ) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    """Exit 0 when healthy, 1 when not (Docker's HEALTHCHECK contract)."""
    healthy = probe(
        port=os.environ.get("PORT", "8000"),
        allowed_hosts=os.environ.get("ALLOWED_HOSTS", ""),
    )
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
