"""A real Dovecot IMAP server for the tests, on 127.0.0.1 with a throwaway configuration.

As root, mail is stored under an unprivileged uid (``nobody``) with a static passdb and
userdb; as a normal user, Dovecot runs entirely as that user with the login services not
chrooted. Every instance has its own config, runtime, state and mail directories under a
temporary directory, its own free ports, and a self-signed certificate made with the
openssl command line.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from imapclient import IMAPClient, SocketTimeout
from pydantic import SecretStr

from tests.support.ci import unavailable
from worker.settings import ImapSettings

USER = "support@example.test"
PASSWORD = "dovecot-test-password"
START_TIMEOUT = 20.0
#: How long a test's APPEND may wait for the server's answer.
APPEND_TIMEOUT = 90.0


def dovecot_binary() -> str | None:
    """The dovecot executable, looked up in PATH and the Debian sbin directory."""
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")


def require_dovecot() -> str:
    """Return the dovecot binary, or fail in CI / skip elsewhere when it is missing."""
    for tool in ("dovecot", "openssl"):
        found = dovecot_binary() if tool == "dovecot" else shutil.which("openssl")
        if found is None:
            unavailable(f"{tool} is not installed (Debian: run .ci/install-debian-packages)")
    binary = dovecot_binary()
    assert binary is not None
    return binary


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a certificate for 127.0.0.1 and localhost, and its key; return both paths."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key


@dataclass
class Dovecot:
    """One running (or stopped) Dovecot instance and the helpers tests use on it."""

    binary: str
    root: Path
    imap_port: int
    imaps_port: int
    cert: Path
    user: str = USER
    password: str = PASSWORD
    process: subprocess.Popen[bytes] | None = None
    #: As root, run Dovecot as this unprivileged user instead, the way a developer would.
    run_as: pwd.struct_passwd | None = None

    host = "127.0.0.1"

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log(self) -> Path:
        return self.root / "dovecot.log"

    # --- lifecycle -------------------------------------------------------------------

    def write_config(
        self, oauth2_introspection_url: str = "", *, uid: int | None = None, capabilities: str = ""
    ) -> None:
        """Write the configuration; with an introspection URL, XOAUTH2 logins are checked there.

        ``uid`` is the user Dovecot will run as (the current one unless told otherwise);
        ``capabilities`` replaces what the server advertises after login.
        """
        mail = self.root / "mail"
        key = self.cert.with_name("key.pem")
        uid = os.geteuid() if uid is None else uid
        if uid == 0:
            nobody = pwd.getpwnam("nobody")
            identity = f"""
first_valid_uid = {nobody.pw_uid}
first_valid_gid = {nobody.pw_gid}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={mail}/%n allow_all_users=yes
}}
"""
        else:
            me = pwd.getpwuid(uid)
            group = grp.getgrgid(me.pw_gid).gr_name
            identity = f"""
default_internal_user = {me.pw_name}
default_internal_group = {group}
default_login_user = {me.pw_name}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
userdb {{
  driver = static
  args = home={mail}/%n allow_all_users=yes
}}
"""
        self.config.write_text(
            f"""# Throwaway test server; see tests/support/dovecot.py.
instance_name = dovecot-test-{self.imap_port}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{key}
auth_failure_delay = 0
auth_mechanisms = plain login{" xoauth2 oauthbearer" if oauth2_introspection_url else ""}
mail_location = maildir:~/Maildir
mail_fsync = never
{f"imap_capability = {capabilities}" if capabilities else ""}
{identity}
{self._oauth2_passdb(oauth2_introspection_url)}
passdb {{
  driver = static
  mechanisms = plain login
  args = password={self.password}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
""",
            encoding="utf-8",
        )

    def _as_user(self) -> list[str]:
        if self.run_as is None:
            return []
        return [
            "setpriv", f"--reuid={self.run_as.pw_uid}", f"--regid={self.run_as.pw_gid}",
            "--clear-groups",
        ]  # fmt: skip

    def _oauth2_passdb(self, introspection_url: str) -> str:
        if not introspection_url:
            return ""
        settings = self.root / "oauth2.conf.ext"
        settings.write_text(
            f"""introspection_mode = post
introspection_url = {introspection_url}
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
""",
            encoding="utf-8",
        )
        return f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {settings}
}}"""

    def start(self) -> None:
        """Start the server on its ports and wait until it greets a client."""
        if self.process is not None and self.process.poll() is None:
            return
        # start_new_session: the master and its children share a process group of their own,
        # so kill() can take down exactly this instance.
        self.process = subprocess.Popen(
            [*self._as_user(), self.binary, "-F", "-c", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                stderr = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RuntimeError(f"dovecot exited at start: {stderr}\n{self.log_tail()}")
            if self._greets(self.imap_port) and self._greets(self.imaps_port):
                return
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"dovecot did not accept connections in time\n{self.log_tail()}")
            time.sleep(0.05)  # polling a port with a deadline, not waiting for a result

    def _greets(self, port: int) -> bool:
        """Whether the port accepts a connection (and, for plain IMAP, says hello)."""
        try:
            with socket.create_connection((self.host, port), timeout=1) as conn:
                if port == self.imaps_port:
                    return True  # accepting is enough; the handshake is tested elsewhere
                return conn.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def kill(self) -> None:
        """Kill the server and every process it started, at once, like a crash."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None
        # The children are in the same group, but may outlive the master for an instant.
        deadline = time.monotonic() + 10
        while self._greets(self.imap_port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def kick(self) -> None:
        """End the user's sessions the polite way: each is told BYE before it closes."""
        subprocess.run(
            [*self._as_user(), self.doveadm(), "-c", str(self.config), "kick", self.user],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def restart(self) -> None:
        self.kill()
        self.start()

    def cleanup(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- mail helpers ----------------------------------------------------------------

    @contextlib.contextmanager
    def client(self, read_timeout: float = 30) -> Iterator[IMAPClient]:
        """A logged-in plain IMAP connection for setting up mail."""
        conn = IMAPClient(
            self.host, self.imap_port, ssl=False, timeout=SocketTimeout(5, read_timeout)
        )
        try:
            conn.login(self.user, self.password)
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def append(self, raw: bytes, folder: str = "INBOX", flags: Sequence[str] = ()) -> int:
        """APPEND one message; return its UID."""
        with self.client() as conn:
            if not conn.folder_exists(folder):
                conn.create_folder(folder)
            response = conn.append(folder, raw, flags=tuple(flags))
        # "[APPENDUID <uidvalidity> <uid>] ..." (UIDPLUS, which Dovecot always offers)
        text = response.decode() if isinstance(response, bytes) else str(response)
        return int(text.split("]")[0].split()[-1])

    def append_many(self, raws: Sequence[bytes], folder: str = "INBOX", chunk: int = 200) -> None:
        """APPEND many messages over one connection, a chunk per MULTIAPPEND command.

        Right after a crash (kill()) the server may first recover the folder's index before it
        answers, so an append waits up to APPEND_TIMEOUT; a longer wait fails with the
        server's log, which says what it was doing.
        """
        with self.client(read_timeout=APPEND_TIMEOUT) as conn:
            if not conn.folder_exists(folder):
                conn.create_folder(folder)
            for start in range(0, len(raws), chunk):
                try:
                    conn.multiappend(folder, list(raws[start : start + chunk]))
                except TimeoutError:
                    raise AssertionError(
                        f"dovecot did not answer an append in {APPEND_TIMEOUT:.0f} s\n"
                        f"{self.log_tail()}"
                    ) from None

    def create_folder(self, folder: str) -> None:
        with self.client() as conn:
            if not conn.folder_exists(folder):
                conn.create_folder(folder)

    def flags(self, folder: str, uid: int) -> set[str]:
        with self.client() as conn:
            conn.select_folder(folder, readonly=True)
            found = conn.get_flags([uid]).get(uid, ())
        return {f.decode() if isinstance(f, bytes) else str(f) for f in found}

    def uids(self, folder: str) -> list[int]:
        with self.client() as conn:
            conn.select_folder(folder, readonly=True)
            return sorted(int(uid) for uid in conn.search(["ALL"]))

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.client() as conn:
            return int(conn.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def change_uidvalidity(self, folder: str = "INBOX") -> int:
        """Give the folder a new UIDVALIDITY, keeping its messages, as a server migration would."""
        new = self.uidvalidity(folder) + 1000
        subprocess.run(
            [*self._as_user(), self.doveadm(), "-c", str(self.config), "mailbox", "update",
             "-u", self.user, "--uid-validity", str(new), folder],
            check=True,
            capture_output=True,
            timeout=30,
        )  # fmt: skip
        return new

    def doveadm(self) -> str:
        return shutil.which("doveadm") or str(Path(self.binary).with_name("doveadm"))


def make_message(
    subject: str = "Hello",
    body: str = "Hi there.",
    *,
    sender: str = "client@customer.test",
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    message_id: str | None = None,
) -> bytes:
    """Build a mail with optional HTML alternative and attachments (name, content type, bytes)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = USER
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(msg)


def start_dovecot(
    oauth2_introspection_url: str = "", *, run_as: str | None = None, capabilities: str = ""
) -> Dovecot:
    """Start a fresh Dovecot; the caller must call cleanup().

    ``run_as`` (root only) names an unprivileged user to run the whole server as;
    ``capabilities`` replaces the CAPABILITY list, e.g. to play a server without IDLE.
    """
    binary = require_dovecot()
    root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
    # As root, the mail processes run as nobody and must reach the mail directory.
    root.chmod(0o755)
    mail = root / "mail"
    mail.mkdir()
    cert, _key = make_self_signed_certificate(root)
    user = pwd.getpwnam(run_as) if run_as and os.geteuid() == 0 else None
    server = Dovecot(
        binary=binary,
        root=root,
        imap_port=free_port(),
        imaps_port=free_port(),
        cert=cert,
        run_as=user,
    )
    server.write_config(
        oauth2_introspection_url, uid=user.pw_uid if user else None, capabilities=capabilities
    )
    if user is not None:
        for path in [root, *root.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
    elif os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)
    try:
        server.start()
    except Exception as exc:
        server.cleanup()
        unavailable(f"Dovecot did not start here: {exc}")
    return server


class CountingProxy:
    """A TCP relay in front of a server that counts the bytes flowing each way.

    It measures what really crossed the wire, whatever the client library does inside.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.to_client = 0
        self.to_server = bytearray()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        #: While set, bytes are swallowed in both directions and connections stay open.
        self.frozen = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._relay, args=(server, client, True), daemon=True).start()
            threading.Thread(target=self._relay, args=(client, server, False), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket, downstream: bool) -> None:
        try:
            while chunk := source.recv(65536):
                with self._lock:
                    if self.frozen:
                        continue  # a network that silently drops everything
                    if downstream:
                        self.to_client += len(chunk)
                    elif len(self.to_server) < 1_000_000:
                        self.to_server += chunk
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def reset_counts(self) -> None:
        with self._lock:
            self.to_client = 0
            self.to_server.clear()

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()


def plain_settings(server: Dovecot, **overrides: Any) -> ImapSettings:
    """Settings for the plain-text listener, which Dovecot allows from 127.0.0.1 only."""
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.imap_port,
        "security": "plain",
        "username": server.user,
        "password": SecretStr(server.password),
        "timeout": timedelta(seconds=5),
    }
    values.update(overrides)
    return ImapSettings(**values)
