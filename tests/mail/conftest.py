"""A real SMTP server (aiosmtpd) on a free port, and the app pointed at it."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

TIMEOUT = 1.0  # seconds: a test never waits the production 10 s on a server that is down


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    """What the server received; `refuse` ("451 ..." or "550 ...") makes it refuse the
    content, `stall` (seconds) makes it answer the content that late."""

    received: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refuse: str | None = None
    stall: float = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        if self.stall:
            await asyncio.sleep(self.stall)
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[EmailMessage]:
        return self.inbox.received


@pytest.fixture()
def mail_settings(app):
    """Set mail settings on the session's app for one test, then put them back."""
    saved = dict(app.config)

    def configure(**values):
        app.config.update(values)

    yield configure
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_TIMEOUT", "SMTP_USER"):
        app.config[key] = saved[key]
    app.config["MAIL_MAX_ATTEMPTS"] = saved["MAIL_MAX_ATTEMPTS"]


@pytest.fixture()
def smtp_server(mail_settings):
    """A running SMTP server, and the app sending to it (no TLS, short timeouts)."""
    server = SmtpServer(free_port())
    server.start()
    mail_settings(
        SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_TLS="none", SMTP_TIMEOUT=TIMEOUT
    )
    yield server
    server.stop()


@pytest.fixture()
def smtp_down(mail_settings):
    """The app pointed at a port where no server listens yet; `.start()` brings it up."""
    server = SmtpServer(free_port())
    mail_settings(
        SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_TLS="none", SMTP_TIMEOUT=TIMEOUT
    )
    yield server
    server.stop()
