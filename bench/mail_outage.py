"""The outbox when the SMTP server is down for a minute, in real time (run by hand).

On a fresh database (SQLite in a temporary folder, or --url PostgreSQL), with --consumers
real job consumers (`flask afest afest worker`, two by default: a message is never sent by
both) and a real SMTP server (aiosmtpd) that starts only --down seconds later:

1. --messages e-mails are enqueued in one transaction, as a request would; the commit asks
   the consumer for the sending job, which finds the server down (connection refused);
2. every few seconds the script prints the outbox by state and attempts, and what the
   server received;
3. once every message is sent (or --timeout passes) it checks that the server received each
   Message-ID exactly once.

Usage:
    .venv/bin/python bench/mail_outage.py [--down 60] [--messages 20] [--consumers 2] [--url URL]

With --url, the database must be empty (it is migrated to head here); the job queue is then
instance/afest-jobs.sqlite unless AFEST_REDIS_URL is set.
"""

from __future__ import annotations

import argparse
import collections
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", type=float, default=60, help="seconds the server is down")
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--url", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="afest-mail-outage-"))
    url = args.url or f"sqlite:///{folder}/afest.sqlite"
    port = free_port()
    env = {
        **os.environ,
        "AFEST_DATABASE_URL": url,
        "AFEST_SMTP_HOST": "127.0.0.1",
        "AFEST_SMTP_PORT": str(port),
        "AFEST_SMTP_TLS": "none",
        "AFEST_SMTP_TIMEOUT": "5",
        "AFEST_REDIS_URL": os.environ.get("AFEST_REDIS_URL", ""),
    }
    os.environ.update(env)  # before afest is imported: the job queue reads the settings

    from aiosmtpd.controller import Controller
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import func
    from sqlmodel import select

    from afest import create_app
    from afest.core.database import database
    from afest.mail import outbox
    from afest.models import OutboxMessage

    app = create_app()
    db = database(app)
    with db.engine.begin() as conn:
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")

    received: list[str] = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            for line in envelope.original_content.decode("utf-8", "replace").splitlines():
                if line.lower().startswith("message-id:"):
                    received.append(line.split(":", 1)[1].strip())
            return "250 Message accepted"

    logs = [folder / f"worker{n}.log" for n in range(args.consumers)]
    workers = [
        subprocess.Popen(
            [str(ROOT / ".venv/bin/flask"), "--app", "afest", "afest", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    start = time.monotonic()

    def say(text: str) -> None:
        print(f"t={time.monotonic() - start:6.1f}s  {text}", flush=True)

    controller = None
    try:
        time.sleep(2)  # the consumer starts
        with app.app_context(), db.session(write=True) as session:
            for n in range(args.messages):
                outbox.enqueue(
                    session,
                    template="test_message",
                    to=(f"personne{n}@example.org", f"Personne {n}", None),
                    context={
                        "requested_by": "Outage",
                        "home_url": outbox.absolute_url("main.home"),
                    },
                    event_key=f"outage:{n}",
                )
            session.commit()
        say(f"{args.messages} messages committed; SMTP server down on port {port}")

        deadline = start + args.timeout
        last = None
        while time.monotonic() < deadline:
            if controller is None and time.monotonic() - start >= args.down:
                controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
                controller.start()
                say("SMTP server up")
            with db.session() as session:
                rows = session.exec(
                    select(OutboxMessage.state, OutboxMessage.attempts, func.count())
                    .group_by(OutboxMessage.state, OutboxMessage.attempts)
                    .order_by(OutboxMessage.state, OutboxMessage.attempts)
                ).all()
                due = session.exec(select(func.min(OutboxMessage.next_attempt_at))).one()
            states = ", ".join(f"{s.value}×{c} (attempts {a})" for s, a, c in rows)
            line = f"outbox: {states}; server received {len(received)}"
            if line != last:
                say(f"{line}; earliest next attempt {due:%H:%M:%S}")
                last = line
            if rows and all(s.value == "sent" for s, _a, _c in rows):
                break
            time.sleep(1)
        twice = [mid for mid, n in collections.Counter(received).items() if n > 1]
        with db.session() as session:
            sent = session.exec(select(func.count()).where(OutboxMessage.state == "sent")).one()
        say(
            f"done: {sent}/{args.messages} sent, {len(set(received))} distinct Message-IDs "
            f"received, {len(received)} deliveries, {len(twice)} received twice"
        )
        for n, log in enumerate(logs):
            lines = [line for line in log.read_text().splitlines() if " mail" in line]
            sent_here = sum(line.endswith(": sent ") for line in lines)
            print(f"consumer {n}: {sent_here} sent; its mail log, first 3 and last 2 lines:")
            for line in lines[:3] + ["..."] + lines[-2:]:
                print("   ", line[:150])
        ok = sent == args.messages and len(received) == args.messages and not twice
        return 0 if ok else 1
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(10)
        if controller is not None:
            controller.stop()
        db.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
