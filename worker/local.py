"""``run --local``: the real service on embedded defaults, to try it on one's own mail.

One folder holds everything: a Maildir inbox to drop .eml files into, the SQLite store,
and the data file of an in-process Jira sandbox (Cloud dialect) whose issues a read-only
web page shows. The service itself is the one ``run`` starts, health server included,
with short poll intervals so that a dropped mail becomes a recovery within seconds.
"""

from __future__ import annotations

import shlex
import sys
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import TextIO

from worker.app import build_worker
from worker.clock import SystemClock
from worker.errors import ConfigurationError
from worker.logs import configure_logging
from worker.mail.maildir import MaildirInbox
from worker.sandbox import RunningSandbox, start_sandbox
from worker.sandbox.state import USERS
from worker.settings import Settings, state_directory

#: Under the platform's state directory unless --local-dir names another folder.
LOCAL_FOLDER = Path("recovery-worker") / "local"
#: The sandbox user new recoveries go to when no rule names an owner.
OWNER = USERS[1]
SAMPLE = "01-angry-client.eml"


def default_folder() -> Path:
    """``$XDG_STATE_HOME/recovery-worker/local``, else ``~/.local/state/recovery-worker/local``."""
    try:
        return state_directory() / LOCAL_FOLDER
    except ValueError as exc:
        raise ConfigurationError(f"{exc}; or give --local-dir") from None


def local_settings(folder: Path, sandbox: RunningSandbox) -> Settings:
    """The embedded defaults: the folder's inbox and store, the sandbox, a free health port."""
    return Settings.model_validate(
        {
            "store": {"url": f"sqlite:///{folder / 'state.db'}"},
            "maildir": {"path": str(folder / "inbox"), "poll_interval": timedelta(seconds=2)},
            "jira": {
                "url": sandbox.url,
                "dialect": sandbox.dialect,
                **sandbox.credentials,
                "default_owner": OWNER.account_id,
                "poll_interval": timedelta(seconds=5),
            },
            "health": {"port": 0},
        }
    )


def _sample() -> str:
    """A shipped sample complaint, as a path a shell can copy from."""
    return shlex.quote(str(resources.files("worker.demo").joinpath("mails", SAMPLE)))


def run_local(folder: Path | None, out: TextIO | None = None, *, once: bool = False) -> int:
    """Run the service on embedded defaults until SIGINT or SIGTERM (or one pass: ``once``)."""
    out = out or sys.stdout
    home = (folder or default_folder()).absolute()
    inbox = MaildirInbox(home / "inbox")
    try:
        home.mkdir(parents=True, exist_ok=True)
        inbox.ensure()
    except OSError as exc:
        raise ConfigurationError(f"cannot create the local folder {home}: {exc.strerror}") from None
    configure_logging("info", "auto", stream=out)
    try:
        return _serve(home, inbox, out, once=once)
    except KeyboardInterrupt:
        # Ctrl-C before the signal handlers are in place: everything opened is closed on the
        # way out, which is as clean a stop as one later.
        return 0


def _serve(home: Path, inbox: MaildirInbox, out: TextIO, *, once: bool) -> int:
    """Start the sandbox, then the service on it; both are stopped on the way out."""
    with start_sandbox("cloud", data_file=home / "jira.json") as sandbox:
        settings = local_settings(home, sandbox)
        new = inbox.path / "new"
        print(
            f"The service on embedded defaults, in {home} (Ctrl-C stops it)\n"
            f"  drop .eml files into:  {new}\n"
            f"  issues in Jira:        {sandbox.url}/   (a read-only page of the Jira sandbox)\n"
            f"  state store:           {home / 'state.db'}\n"
            f"  try a sample:          cp {_sample()} {shlex.quote(str(new))}/",
            file=out,
            flush=True,
        )
        worker = build_worker(settings, SystemClock())
        try:
            if once:
                return 0 if worker.supervisor.run_once() else 1
            worker.supervisor.install_signal_handlers(grace=settings.loop.shutdown_grace)
            health = worker.start_health()
            if health is not None:
                print(
                    f"  health:                http://127.0.0.1:{health.port}/readyz",
                    file=out,
                    flush=True,
                )
            worker.supervisor.run_forever()
            return 0
        finally:
            worker.close()
