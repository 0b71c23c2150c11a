"""The outbox when the SMTP server is down for a minute, in real time (run by hand).

On a fresh database (--engine sqlite: a file in a temporary folder; --engine postgresql: a
database of its own on AFEST_BENCH_PG_URL, dropped at the end; or --url, an empty one), with
--consumers real job consumers (`flask afest afest worker`, two by default: a message is
never sent by both) and a real SMTP server (aiosmtpd) that starts only --down seconds after
the messages are committed:

1. --messages e-mails are enqueued in one transaction, as a request would; the commit asks
   the consumer for the sending job, which finds the server down (connection refused);
2. every few seconds the script prints the outbox by state and attempts, and what the
   server received;
3. once every message is sent (or --timeout passes) it checks that the server received each
   Message-ID exactly once, and prints its figures as `name = value unit` lines: the
   outage, how many were sent and delivered, how many twice, and how long after the server
   came back the first and the last message were sent (their sent_at).

Usage:
    .venv/bin/python bench/mail_outage.py [--engine sqlite|postgresql] [--down 60]
        [--messages 20] [--consumers 2] [--url URL]

The job queue is an SQLite file in the run's temporary folder (the consumers run there), so
that no other consumer of this machine takes the run's jobs, unless AFEST_REDIS_URL is set.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database  # noqa: E402 - after the path is set


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--down", type=float, default=60, help="seconds the server stays down after the commit"
    )
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="an empty database (instead of --engine's own)")
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="afest-mail-outage-"))
    if args.url:
        url, drop = args.url, lambda: None
    else:
        url, drop = scratch_database(args.engine, folder, "outage")
    engine = url.split(":", 1)[0].split("+", 1)[0]
    try:
        return run(args, folder, url, engine)
    finally:
        drop()


def run(args: argparse.Namespace, folder: Path, url: str, engine: str) -> int:
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
    os.chdir(folder)  # a queue beside no SQLite database is instance/ of the current folder

    from aiosmtpd.controller import Controller
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import func
    from sqlmodel import select

    from afest import create_app
    from afest.core.database import database
    from afest.mail import outbox
    from afest.models import MailState, OutboxMessage, utcnow

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
            cwd=folder,
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
    up_at = None
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
        committed = time.monotonic()
        say(f"{args.messages} messages committed; SMTP server down on port {port}")

        deadline = committed + args.timeout
        last = None
        while time.monotonic() < deadline:
            if controller is None and time.monotonic() - committed >= args.down:
                controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
                controller.start()
                up_at, down = utcnow(), time.monotonic() - committed
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
            sent, first, last_sent, attempts = session.exec(
                select(
                    func.count(),
                    func.min(OutboxMessage.sent_at),
                    func.max(OutboxMessage.sent_at),
                    func.max(OutboxMessage.attempts),
                ).where(OutboxMessage.state == MailState.SENT)
            ).one()
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
        tag = f"mail_outage.{engine}.messages_{args.messages}.consumers_{args.consumers}"
        if up_at is None:
            print(f"{tag}.down = {time.monotonic() - committed:.1f} s  (the server never came up)")
            return 1
        print(f"{tag}.down = {down:.1f} s  (from the commit to the SMTP server up)")
        print(f"{tag}.sent = {sent} messages  (of {args.messages})")
        print(f"{tag}.deliveries = {len(received)} messages  (what the server received)")
        print(f"{tag}.duplicates = {len(twice)} messages  (Message-IDs received twice or more)")
        print(f"{tag}.attempts_max = {attempts or 0} attempts")
        if sent:
            print(f"{tag}.up_to_first_sent = {_since(up_at, first):.1f} s  (its sent_at)")
            print(f"{tag}.up_to_last_sent = {_since(up_at, last_sent):.1f} s  (its sent_at)")
        ok = sent == args.messages and len(received) == args.messages and not twice
        if ok:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"the consumers' logs are kept in {folder}")
        return 0 if ok else 1
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(10)
        if controller is not None:
            controller.stop()
        db.engine.dispose()


def _since(up_at, instant) -> float:
    """Seconds from `up_at` to `instant` (SQLite gives it back as naive UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=up_at.tzinfo)
    return (instant - up_at).total_seconds()


if __name__ == "__main__":
    sys.exit(main())
