"""The outside world of the production stack stage (.ci/stack), in one process on 127.0.0.1:
the fake Stripe API (tests/fakes/stripe_server.py) and an SMTP sink (aiosmtpd) that keeps every
message it accepts as a file in a folder, for the smoke client to read.

    python -m tests.stack.fakes MAIL_DIR SMTP_PORT   # prints {"stripe": URL, "smtp": PORT}, runs until SIGTERM
"""
from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller

from tests.fakes.stripe_server import FakeStripe


class Maildir:
    """Keeps each accepted message as N.eml (written to a temporary name, then renamed, so a
    reader never sees half a message)."""

    def __init__(self, folder: Path):
        self.folder, self.count, self.lock = folder, 0, threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self.lock:
            self.count += 1
            name = f"{self.count:04d}"
        partial = self.folder / f".{name}.tmp"
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(self.folder / f"{name}.eml")
        return "250 Message accepted for delivery"


def main() -> None:
    mail_dir, smtp_port = Path(sys.argv[1]), int(sys.argv[2])
    stripe = FakeStripe()
    smtp = Controller(Maildir(mail_dir), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(json.dumps({"stripe": stripe.base_url, "smtp": smtp_port}), flush=True)
    try:
        stopped.wait()
    finally:
        smtp.stop()
        stripe.stop()


if __name__ == "__main__":
    main()
