"""A tiny threaded SMTP server for the outbox tests: it can stall in DATA or refuse recipients.

A letter counts as received only once the server has answered the final dot with 250: that is
when an SMTP server has taken it, so a client killed before then has delivered nothing.
"""

from __future__ import annotations

import socket
import threading


class SmtpStub:
    def __init__(self, *, stall_first: bool = False, refuse: bool = False) -> None:
        self.stall_first = stall_first
        self.refuse = refuse
        self.received: list[bytes] = []
        self.connections = 0
        self.stalled = threading.Event()
        self._release = threading.Event()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._release.set()
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                stall = self.stall_first and self.connections == 1
            threading.Thread(target=self._serve, args=(conn, stall), daemon=True).start()

    def _serve(self, conn: socket.socket, stall: bool) -> None:
        conn.settimeout(120)
        reader = conn.makefile("rb")

        def say(line: str) -> None:
            conn.sendall(line.encode() + b"\r\n")

        try:
            say("220 stub ESMTP")
            while True:
                line = reader.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"EHLO":
                    say("250-stub")
                    say("250 8BITMIME")
                elif verb == b"RCPT" and self.refuse:
                    say("550 5.7.1 relaying refused")
                elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    say("250 OK")
                elif verb == b"DATA":
                    say("354 go ahead")
                    data = b""
                    while not data.endswith(b"\r\n.\r\n"):
                        chunk = reader.readline()
                        if not chunk:
                            return  # the client went away mid-DATA: nothing was taken
                        data += chunk
                    if stall:
                        # Hold the letter without an answer until the client is killed.
                        self.stalled.set()
                        while not self._release.is_set() and reader.readline():
                            pass
                        return
                    self.received.append(data)
                    say("250 queued")
                elif verb == b"QUIT":
                    say("221 bye")
                    return
                else:
                    say("502 not implemented")
        except OSError:
            return
        finally:
            conn.close()
