"""Real mail servers for the mail tests: a throwaway dovecot (IMAP) and an aiosmtpd (SMTP) server.

dovecot runs from a config of its own in a temporary directory, on a free port, with one
passwd-file user and a Maildir; the SMTP server keeps every letter it receives and delivers the
ones addressed to that user into the same mailbox (by IMAP APPEND), so a thread can round-trip.
Both live for the test session. Debian package for dovecot: `dovecot-imapd`.
"""

from __future__ import annotations

import contextlib
import getpass
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

DOVECOT = os.environ.get("OPORA_DOVECOT", "/usr/sbin/dovecot")
MAILBOX_USER = "written@opora.test"
MAILBOX_PASSWORD = "imap-Test-pass-1"  # a throwaway server's user


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = opora-test-{port}
log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    dir: Path

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        conn.select("INBOX")
        return conn

    def append(self, raw: bytes | EmailMessage, when: float | None = None) -> None:
        """Deliver a letter into INBOX, unread, as the mail server would."""
        data = raw.as_bytes() if isinstance(raw, EmailMessage) else raw
        conn = self.connect()
        try:
            stamp = imaplib.Time2Internaldate(when if when is not None else time.time())
            typ, _ = conn.append("INBOX", None, stamp, data)
            assert typ == "OK"
        finally:
            conn.logout()

    def clear(self) -> None:
        conn = self.connect()
        try:
            typ, data = conn.uid("SEARCH", "ALL")
            if data and data[0]:
                conn.uid("STORE", b",".join(data[0].split()).decode(), "+FLAGS", "(\\Deleted)")
                conn.expunge()
        finally:
            conn.logout()

    def unseen_count(self) -> int:
        conn = self.connect()
        try:
            _typ, data = conn.uid("SEARCH", "UNSEEN")
            return len((data[0] or b"").split())
        finally:
            conn.logout()


def _dovecot_users() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid): as root, the package's own users."""
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return "dovecot", "dovenull", nobody.pw_uid, nobody.pw_gid
    me = getpass.getuser()
    return me, me, os.getuid(), os.getgid()


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    if not os.path.exists(DOVECOT):
        pytest.skip(
            f"dovecot not found at {DOVECOT}: install Debian's `dovecot-imapd` "
            "(`make test` does) to run the IMAP tests"
        )
    internal, login, uid, gid = _dovecot_users()
    # Short and world-traversable: the unprivileged mail process must reach the Maildir, and
    # dovecot's unix sockets need a short path.
    root = Path(tempfile.mkdtemp(prefix="opora-imap-", dir="/tmp"))
    root.chmod(0o755)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
        (root / sub).chmod(0o755)
    home = root / "home" / "mbox"
    home.mkdir()
    if os.getuid() == 0:
        os.chown(home, uid, gid)
    (root / "passwd").write_text(
        f"{MAILBOX_USER}:{{PLAIN}}{MAILBOX_PASSWORD}:{uid}:{gid}::{home}\n", encoding="utf-8"
    )
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        _CONF.format(dir=root, port=port, internal_user=internal, login_user=login),
        encoding="utf-8",
    )
    subprocess.run([DOVECOT, "-c", str(conf)], check=True)  # daemonises itself
    try:
        _wait_for_port(port)
        yield ImapServer("127.0.0.1", port, MAILBOX_USER, MAILBOX_PASSWORD, root)
    finally:
        pid_file = root / "run" / "master.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            deadline = time.monotonic() + 5
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[EmailMessage] = field(default_factory=list)
    controller: Controller | None = None
    imap: ImapServer | None = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        raw = envelope.original_content or envelope.content
        self.server.received.append(message_from_bytes(raw, policy=policy.default))
        imap = self.server.imap
        if imap is not None and imap.user in [r.lower() for r in envelope.rcpt_tos]:
            imap.append(raw)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server(imap_server: ImapServer) -> Iterator[SmtpServer]:
    server = SmtpServer("127.0.0.1", free_port(), imap=imap_server)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_servers(imap_server: ImapServer, smtp_server: SmtpServer, settings, tmp_path):
    """Both servers, emptied for this test; attachments and raw letters go to a temporary dir."""
    settings.MEDIA_ROOT = tmp_path / "media"
    imap_server.clear()
    smtp_server.received.clear()
    return imap_server, smtp_server
