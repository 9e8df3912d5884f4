"""A real SMTP server on loopback for drudge-email's tests and benchmark.

Debian's python3-aiosmtpd in a thread of the test process (or, run as a
script, in its own process: `smtp_server.py --port N`). It keeps every
message it accepts (and writes it to `directory` as NNNN.eml when given one),
counts the connections it was sent, and answers on demand:

    srv = SmtpServer(directory=tmp_path / "mail")
    srv.data_replies.append("451 4.3.0 try again later")   # next DATA only
    srv.rcpt_replies["nobody@example.com"] = "550 5.1.1 no such user"
    srv.drop_next_data = True     # close the connection instead of answering
    srv.stop(); srv.start()       # same port: a server going down and back

Replies are consumed in order; with none queued the server accepts
("250 2.0.0 Ok: queued as <n>"). `connections` counts the TCP connections
clients opened (the controller's own start-up probe is not counted).
"""
import argparse
import asyncio
import collections
import email
import email.policy
import os
import signal
import socket
import threading
import time
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Message:
    """One accepted message: the envelope and the bytes as received."""

    def __init__(self, number, peer, mail_from, rcpt_tos, data, login):
        self.number = number
        self.peer = peer            # (host, port) of the client: one per connection
        self.mail_from = mail_from
        self.rcpt_tos = rcpt_tos
        self.data = data            # bytes, CRLF line ends, dot-stuffing undone
        self.login = login          # AUTH user of the session, or None

    def parse(self):
        """The message as an email.message.EmailMessage (modern policy)."""
        return email.message_from_bytes(self.data, policy=email.policy.default)


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        reply = self.server.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, smtp, session, envelope):
        srv = self.server
        with srv.lock:
            drop = srv.drop_next_data
            srv.drop_next_data = False
            reply = srv.data_replies.popleft() if srv.data_replies else None
        if drop:
            smtp.transport.close()  # a connection lost mid-transaction
            return "421 closing"    # never reaches the client
        if reply:
            return reply
        with srv.lock:
            srv.count += 1
            n = srv.count
            if srv.keep:
                msg = Message(n, session.peer, envelope.mail_from, list(envelope.rcpt_tos),
                              bytes(envelope.original_content or b""), session.auth_data)
                srv.messages.append(msg)
        if srv.directory and srv.keep:
            with open(os.path.join(srv.directory, f"{n:06d}.eml"), "wb") as f:
                f.write(msg.data)
        return f"250 2.0.0 Ok: queued as {n}"


class _CountingSMTP(SMTP):
    """aiosmtpd's server protocol, counting connections and remembering
    them so that stop() can close them like a dying server would."""

    def __init__(self, owner, *args, **kwargs):
        with warnings.catch_warnings():
            # AUTH without TLS is what the tests want, on loopback
            warnings.simplefilter("ignore")
            super().__init__(*args, **kwargs)
        self.owner = owner

    def connection_made(self, transport):
        fresh = self.transport is None
        super().connection_made(transport)
        if fresh:
            with self.owner.lock:
                self.owner.connections += 1
                self.owner.transports.add(transport)

    def connection_lost(self, error):
        with self.owner.lock:
            self.owner.transports.discard(self.transport)
        super().connection_lost(error)


class _Controller(Controller):
    def __init__(self, owner, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def factory(self):
        return _CountingSMTP(self.owner, self.handler, **self.SMTP_kwargs)


class SmtpServer:
    def __init__(self, port=None, directory=None, keep=True, users=None):
        """users: {"name": "password"} turns on AUTH (PLAIN/LOGIN, allowed
        without TLS on loopback)."""
        self.port = port or free_port()
        self.directory = str(directory) if directory else None
        if self.directory:
            os.makedirs(self.directory, exist_ok=True)
        self.keep = keep
        self.users = users
        self.lock = threading.Lock()
        self.messages = []
        self.count = 0
        self.connections = 0
        self.transports = set()
        self.data_replies = collections.deque()
        self.rcpt_replies = {}
        self.drop_next_data = False
        self.controller = None
        self.start()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        user = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        pw = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        ok = self.users is not None and self.users.get(user) == pw
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    def start(self):
        kwargs = dict(hostname="127.0.0.1", port=self.port, ready_timeout=10,
                      data_size_limit=64 * 1024 * 1024, server_hostname="smtp.test")
        if self.users is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False,
                          auth_required=True)
        self.controller = _Controller(self, _Handler(self), **kwargs)
        deadline = time.monotonic() + 10
        while True:  # the port may linger briefly after a restart
            try:
                self.controller.start()
                break
            except (OSError, RuntimeError):
                self.controller = _Controller(self, _Handler(self), **kwargs)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with self.lock:
            self.connections -= 1  # the controller's start-up probe

    def stop(self):
        """Stop listening and drop every open connection."""
        if self.controller is None:
            return
        loop = self.controller.loop

        def close_all():
            for t in list(self.transports):
                t.abort()
        loop.call_soon_threadsafe(close_all)
        self.controller.stop()
        self.controller = None

    def restart(self):
        self.stop()
        self.start()

    # ---- what the tests read ----

    def message_count(self):
        with self.lock:
            return self.count

    def peers(self):
        """Distinct client connections the kept messages came over."""
        with self.lock:
            return {m.peer for m in self.messages}

    def find(self, message_id):
        """Kept messages whose Message-ID header is message_id."""
        with self.lock:
            msgs = list(self.messages)
        return [m for m in msgs if m.parse()["Message-ID"] == message_id]


def main():
    ap = argparse.ArgumentParser(description="an SMTP sink on loopback")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--directory", help="save each message here")
    ap.add_argument("--count-file", help="write the number of messages here on exit")
    args = ap.parse_args()
    srv = SmtpServer(port=args.port, directory=args.directory, keep=bool(args.directory))
    print(f"listening 127.0.0.1:{srv.port}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    srv.stop()
    if args.count_file:
        with open(args.count_file, "w") as f:
            f.write(f"{srv.message_count()} {srv.connections}\n")


if __name__ == "__main__":
    main()
