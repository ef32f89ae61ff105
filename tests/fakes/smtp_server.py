"""A minimal SMTP server on 127.0.0.1 for tests, refusing every recipient the way real servers
do: "550 5.1.1 <grace@example.com>: Recipient address rejected", quoting the address. Enough
of the protocol for smtplib (EHLO/HELO, MAIL, RCPT, RSET, NOOP, QUIT); runs in a daemon thread
of the test process, on a free port."""
from __future__ import annotations

import socketserver
import threading


class _Session(socketserver.StreamRequestHandler):
    timeout = 10

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost ESMTP test server")
        while raw := self.rfile.readline(4096):
            command = raw.decode(errors="replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif verb in ("MAIL", "RSET", "NOOP"):
                self.reply("250 2.0.0 OK")
            elif verb == "RCPT":
                address = command.split(":", 1)[-1].strip()
                self.server.recipients.append(address.strip("<>"))
                self.reply(f"550 5.1.1 {address}: Recipient address rejected: user unknown")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("503 5.5.1 No valid recipients")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class RefusingSMTPServer:
    def __init__(self):
        self._server = _Server(("127.0.0.1", 0), _Session)
        self._server.recipients = []
        self.host, self.port = self._server.server_address
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def recipients(self) -> list[str]:
        """Every address offered in a RCPT command (all of them refused)."""
        return list(self._server.recipients)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RefusingSMTPServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
