"""Settings: one pydantic-settings model, read from the environment, `.env` and a TOML file.

Precedence, highest first: environment variables (prefix ``RECOVERY_WORKER_``, nested
sections joined with ``__``), the ``.env`` file, the TOML file given with ``--config``,
then the defaults below. Unknown keys are errors, never silently ignored.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from worker.core.calendar import parse_hours
from worker.core.decision import DecisionPolicy
from worker.domain.followup import ROOT_CAUSE_HEADINGS, RootCausePart
from worker.domain.recovery import SEVERITIES, Severity
from worker.errors import ConfigurationError
from worker.logs import basic_credentials
from worker.store import files

ENV_PREFIX = "RECOVERY_WORKER_"
ENV_NESTED_DELIMITER = "__"

#: Days from resolution to the follow-up's due date when a severity has none configured.
FOLLOWUP_DAYS = 30

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: Any) -> Any:
    """Accept ``"90s"``, ``"15m"``, ``"1h30m"``, ``"2d"``, a number of seconds, or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if text.isdigit():
            return timedelta(seconds=int(text))
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return timedelta(seconds=sum(float(n) * _UNIT_SECONDS[u] for n, u in parts))
        raise ValueError(
            f"not a duration: use forms like '90s', '15m', '4h', '1h30m', '2d' ({text!r})"
        )
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Section(BaseModel):
    """Base of every settings section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _read_secret_file(path: Path | None) -> SecretStr | None:
    if path is None:
        return None
    try:
        return SecretStr(path.read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None


def check_url(value: str) -> str:
    """An http(s) URL naming a host, or empty (the feature is off); else ValueError."""
    text = value.strip()
    if text and not _is_http_url(text):
        # The value may be a secret (a Slack webhook URL): the message never repeats it.
        raise ValueError(
            "not a URL: give the whole address, starting with https:// (or http://) and a host"
        )
    return text


def _is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (reading it is what checks the port)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not any(char.isspace() for char in text)
    )


def _check_secret_url(value: SecretStr | None) -> SecretStr | None:
    if value is not None:
        check_url(value.get_secret_value())
    return value


Url = Annotated[str, AfterValidator(check_url)]
SecretUrl = Annotated[SecretStr | None, AfterValidator(_check_secret_url)]

STORE_FILE = Path("recovery-worker") / "recovery-worker.db"


def state_directory() -> Path:
    """Where this platform keeps state between runs: $XDG_STATE_HOME, else ~/.local/state."""
    configured = os.environ.get("XDG_STATE_HOME", "")
    # The XDG base directory spec has relative paths ignored.
    if configured and Path(configured).is_absolute():
        return Path(configured)
    try:
        return Path.home() / ".local" / "state"
    except RuntimeError:
        raise ValueError("no home directory to keep the store in: set store.url") from None


def default_store_url() -> str:
    """The SQLite file in the state directory, wherever the command is run from."""
    return f"sqlite:///{state_directory() / STORE_FILE}"


class StoreSettings(Section):
    """Where the worker keeps what it has seen and done."""

    url: str = Field(
        "",
        description=(
            f"SQLAlchemy URL of the state store; empty: the SQLite file {STORE_FILE.as_posix()} "
            "in $XDG_STATE_HOME (else ~/.local/state), whatever the current directory. The "
            "container image sets sqlite:////data/recovery-worker.db."
        ),
    )

    def location(self) -> str:
        """Where the store is, for people: a SQLite file's absolute path, else the URL
        without its password."""
        return files.location(self.url)


class ImapSettings(Section):
    """The support inbox, read over IMAP."""

    host: str = Field("", description="IMAP server; empty disables the IMAP inbox.")
    port: int = Field(
        993, ge=1, le=65535, description="IMAP port (993 for IMAPS, 143 for STARTTLS)."
    )
    security: Literal["tls", "starttls", "plain"] = Field(
        "tls", description="'tls' (IMAPS), 'starttls', or 'plain' (only for local test servers)."
    )
    ca_file: Path | None = Field(
        None, description="Extra CA bundle to trust, e.g. a self-signed cert."
    )
    username: str = Field("", description="Login name of the support mailbox.")
    auth: Literal["password", "xoauth2"] = Field("password", description="'password' or 'xoauth2'.")
    password: SecretStr | None = Field(None, description="Mailbox password (secret).")
    password_file: Path | None = Field(None, description="File holding the password instead.")
    oauth2_token_file: Path | None = Field(
        None, description="XOAUTH2: file holding an access token."
    )
    oauth2_token_command: str = Field("", description="XOAUTH2: command printing an access token.")
    oauth2_token_url: Url = Field("", description="XOAUTH2 client credentials: token endpoint.")
    oauth2_client_id: str = Field("", description="XOAUTH2 client credentials: client id.")
    oauth2_client_secret: SecretStr | None = Field(None, description="XOAUTH2: client secret.")
    oauth2_client_secret_file: Path | None = Field(None, description="File holding the secret.")
    oauth2_scope: str = Field("", description="XOAUTH2 client credentials: scope.")
    folders: list[str] = Field(
        ["INBOX"], description="Folders to watch; each keeps its own cursor."
    )
    sent_folder: str = Field("", description="Sent folder, to see the team's updates to clients.")
    handled_keyword: str = Field(
        "$RecoveryHandled", description="IMAP keyword set on handled mail."
    )
    quarantine_keyword: str = Field(
        "$RecoveryQuarantined", description="Keyword on unparseable mail."
    )
    move_handled_to: str = Field("", description="Folder to move handled mail to; empty keeps it.")
    idle: bool = Field(True, description="Use IMAP IDLE when the server offers it.")
    idle_renew: Duration = Field(
        timedelta(minutes=9), description="Renew IDLE this often (<= 10m)."
    )
    poll_interval: Duration = Field(
        timedelta(seconds=60), description="Poll interval without IDLE."
    )
    timeout: Duration = Field(
        timedelta(seconds=30), description="Timeout of every socket operation."
    )
    max_text_bytes: int = Field(262144, ge=1024, description="Cap on the text kept per message.")

    @model_validator(mode="after")
    def _check(self) -> ImapSettings:
        if self.idle_renew > timedelta(minutes=10):
            raise ValueError("idle_renew must be at most 10m (servers drop IDLE after ~30m)")
        return self

    def resolved_password(self) -> SecretStr | None:
        return self.password or _read_secret_file(self.password_file)

    def resolved_client_secret(self) -> SecretStr | None:
        return self.oauth2_client_secret or _read_secret_file(self.oauth2_client_secret_file)


class MaildirSettings(Section):
    """A Maildir read as the inbox, for on-premise mail and the demo."""

    path: Path | None = Field(None, description="Maildir to watch; unset disables it.")
    poll_interval: Duration = Field(
        timedelta(seconds=10), description="How often the Maildir is looked at."
    )


class JiraSettings(Section):
    """The Jira site where recoveries live."""

    url: Url = Field("", description="Base URL of Jira; empty disables Jira.")
    dialect: Literal["auto", "cloud", "datacenter"] = Field(
        "auto", description="'auto' reads serverInfo; or force 'cloud' / 'datacenter'."
    )
    email: str = Field("", description="Cloud: account email for the API token.")
    api_token: SecretStr | None = Field(None, description="Cloud: API token (secret).")
    api_token_file: Path | None = Field(None, description="File holding the Cloud API token.")
    pat: SecretStr | None = Field(None, description="Data Center: Personal Access Token (secret).")
    pat_file: Path | None = Field(None, description="File holding the Personal Access Token.")
    project: str = Field("SUP", description="Project key where recoveries are opened.")
    issue_type: str = Field("Task", description="Issue type of the recovery ticket.")
    subtask_type: str = Field("", description="Subtask type; empty discovers it from Jira.")
    followup_issue_type: str = Field("Task", description="Issue type of the follow-up task.")
    labels: list[str] = Field(["recovery"], description="Labels put on every recovery.")
    default_owner: str = Field("", description="Point of contact when no other rule names one.")
    owners: dict[str, str] = Field(
        {}, description="Client email domain -> point of contact (user name or accountId)."
    )
    priorities: dict[Severity, str] = Field(
        {"sev1": "Highest", "sev2": "High", "sev3": "Medium"},
        description="Jira priority name per severity.",
    )
    complaint_label: str = Field(
        "complaint", description="Label that marks a Jira issue a complaint."
    )
    reopen_on_complaint: bool = Field(
        True,
        description=(
            "A complaint in a resolved recovery's mail thread, or a new Jira signal on the "
            "issue it came from, reopens it in Jira."
        ),
    )
    reopen_status: str = Field(
        "", description="Status a reopened recovery moves to; empty: a To Do, else In Progress one."
    )
    watch_projects: list[str] = Field([], description="Projects watched for complaint signals.")
    playbook_file: Path | None = Field(
        None, description="Know-Have-Do subtask templates (TOML); unset uses the shipped ones."
    )
    watch_signals: list[Literal["labelled", "priority", "reopened", "comment"]] = Field(
        ["labelled", "priority", "reopened", "comment"],
        description="Jira signals that open a recovery in the watched projects.",
    )
    watch_labelled_jql: str = Field(
        "", description="JQL for complaint-labelled issues; empty: labels = complaint_label."
    )
    watch_priority_jql: str = Field(
        "", description="JQL for top-priority candidates; empty: the sev1 priority."
    )
    watch_reopened_jql: str = Field(
        "", description="JQL for reopen candidates; empty: unresolved issues."
    )
    watch_comment_jql: str = Field(
        "", description="JQL narrowing issues whose reporter comments are read; empty: all."
    )
    watch_overlap: Duration = Field(
        timedelta(minutes=5), description="Each poll looks back this far past the last one."
    )
    watch_lookback: Duration = Field(
        timedelta(days=1), description="How far back the first poll looks."
    )
    timezone: str = Field("UTC", description="Time zone of the Jira account; JQL dates use it.")
    poll_interval: Duration = Field(timedelta(seconds=60), description="How often Jira is polled.")
    connect_timeout: Duration = Field(timedelta(seconds=5), description="HTTP connect timeout.")
    read_timeout: Duration = Field(timedelta(seconds=30), description="HTTP read timeout.")
    max_reply_comments: int = Field(
        5,
        ge=2,
        description=(
            "Comments of client replies on one recovery within reply_comment_window; when more "
            "replies wait, the last one allowed is a digest of them all."
        ),
    )
    reply_comment_window: Duration = Field(
        timedelta(hours=1), description="The window max_reply_comments is counted over."
    )
    update_calls_per_minute: int = Field(
        300,
        ge=1,
        description=(
            "Pace of the calls that show deadlines in Jira (due dates, breach labels taken "
            "off), nearest deadline first; alerts never wait for it. After a first start with "
            "many open recoveries the rest is shown over the next minutes. Jira's Retry-After "
            "pauses it."
        ),
    )
    visibility_window: Duration = Field(
        timedelta(seconds=90),
        description=(
            "How long after a write whose answer was lost Jira may still not show what it made "
            "(search lag, a write landing late); the worker looks for it until then before "
            "writing again."
        ),
    )

    def resolved_api_token(self) -> SecretStr | None:
        return self.api_token or _read_secret_file(self.api_token_file)

    def resolved_pat(self) -> SecretStr | None:
        return self.pat or _read_secret_file(self.pat_file)


class DetectionSettings(Section):
    """How complaints are told apart from other mail."""

    signals_file: Path | None = Field(
        None, description="Rules file; unset uses the rules shipped with the worker."
    )
    complaint_addresses: list[str] = Field(
        [], description="Addresses where every mail counts as a complaint."
    )
    own_addresses: list[str] = Field([], description="The worker's and team's own addresses.")
    ignore_senders: list[str] = Field(
        [], description="Senders or @domains never treated as clients."
    )
    flood_count: int = Field(5, ge=2, description="Mails from one sender that make a flood ...")
    flood_window: Duration = Field(timedelta(minutes=10), description="... within this window.")
    spam_verdict: Literal["skip", "ignore"] = Field(
        "skip",
        description=(
            "Mail the receiving server marked as spam (X-Spam-Flag, X-Spam-Status, "
            "X-Spamd-Result, Exchange SCL 5+): skip it, or ignore the verdict and score it."
        ),
    )

    key_join: Literal["address", "domain"] = Field(
        "domain",
        description=(
            "Who may join a recovery by naming its Jira key in a subject: its client's own "
            "address, or any address of the client's domain. Others get a decision of their own."
        ),
    )
    team_mail_auth: Literal["require", "off"] = Field(
        "require",
        description=(
            "The team's own mail in the inbox counts as an update to the client only when the "
            "receiving server's Authentication-Results says DKIM, DMARC or SPF passed."
        ),
    )
    trusted_auth_servers: list[str] = Field(
        [],
        description=(
            "Authentication-Results of these authserv-ids only; empty trusts the topmost "
            "header, the one the receiving server added."
        ),
    )

    def decision_policy(self) -> DecisionPolicy:
        """The part of these settings that decisions depend on."""
        return DecisionPolicy(
            own_addresses=tuple(self.own_addresses),
            ignore_senders=tuple(self.ignore_senders),
            flood_count=self.flood_count,
            flood_window=self.flood_window,
            skip_spam=self.spam_verdict == "skip",
            key_join=self.key_join,
            team_mail_auth=self.team_mail_auth == "require",
            trusted_servers=tuple(self.trusted_auth_servers),
        )


class AlertSettings(Section):
    """Where warnings and breaches go."""

    warn_at: float = Field(0.75, gt=0, lt=1, description="Warn at this share of an interval.")
    remind_every: Duration = Field(timedelta(hours=1), description="Repeat a breach this often.")
    max_reminders: int = Field(
        6, ge=0, description="Reminders of one breached deadline at most; 0 sends none."
    )
    escalate_after: int = Field(3, ge=1, description="Breaches on one recovery before escalation.")
    manager: str = Field("", description="Who is notified on escalation.")
    breach_label: str = Field("sla-breached", description="Label on a recovery while breached.")
    jira_comment: bool = Field(True, description="Alert in Jira with a comment to the assignee.")
    slack_webhook_url: SecretUrl = Field(
        None, description="Slack incoming-webhook URL (secret); unset disables Slack."
    )
    teams_webhook_url: SecretUrl = Field(
        None, description="Microsoft Teams incoming-webhook URL (secret); unset disables Teams."
    )
    webhook_url: Url = Field("", description="Generic JSON webhook URL; empty disables it.")
    webhook_secret: SecretStr | None = Field(
        None, description="Key of the generic webhook's HMAC-SHA256 signature (secret)."
    )
    webhook_secret_file: Path | None = Field(None, description="File holding the webhook key.")
    webhook_timeout: Duration = Field(
        timedelta(seconds=10), description="Timeout of each webhook call."
    )
    max_attempts: int = Field(
        5, ge=1, description="Attempts per alert and channel before it is given up."
    )

    def resolved_webhook_secret(self) -> SecretStr | None:
        return self.webhook_secret or _read_secret_file(self.webhook_secret_file)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class PolicySettings(Section):
    """What one severity promises; durations are business time in the policy's calendar."""

    first_contact: Duration = Field(description="Time to the first client contact.")
    update_every: Duration = Field(description="Client-update cadence.")
    resolution: Duration = Field(description="Resolution target.")
    calendar: str = Field("business", description="Calendar name, or '24x7'.")


class CalendarSettings(Section):
    """A business calendar: time zone, working hours per weekday, holidays."""

    time_zone: str = Field("UTC", description="IANA time zone, e.g. Europe/Berlin.")
    hours: dict[Weekday, str] = Field(
        dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00"),
        description="Working hours per weekday ('09:00-17:00', '08:00-12:00,13:00-17:00').",
    )
    holidays_country: str = Field("", description="Public holidays of this country (ISO code).")
    holidays_subdiv: str = Field("", description="... and of this subdivision (state, province).")
    extra_dates: list[date] = Field([], description="Further days off (YYYY-MM-DD).")

    @model_validator(mode="after")
    def _valid(self) -> CalendarSettings:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.time_zone!r}") from None
        for text in self.hours.values():
            parse_hours(text)
        if not any(parse_hours(text) for text in self.hours.values()):
            raise ValueError("a calendar needs working hours on at least one day")
        return self


_DEFAULT_POLICIES: dict[Severity, PolicySettings] = {
    "sev1": PolicySettings(
        first_contact=timedelta(hours=1),
        update_every=timedelta(hours=4),
        resolution=timedelta(hours=24),
        calendar="24x7",
    ),
    "sev2": PolicySettings(
        first_contact=timedelta(hours=4),
        update_every=timedelta(hours=8),
        resolution=timedelta(hours=40),
    ),
    "sev3": PolicySettings(
        first_contact=timedelta(hours=8),
        update_every=timedelta(hours=16),
        resolution=timedelta(hours=80),
    ),
}


class SlaSettings(Section):
    """SLA policies per severity, business calendars, and what counts as a client update."""

    policies: dict[Severity, PolicySettings] = Field(
        _DEFAULT_POLICIES,
        description="Policy per severity.",
    )
    calendars: dict[str, CalendarSettings] = Field(
        {"business": CalendarSettings()}, description="Calendars by name ('24x7' is built in)."
    )
    around_the_clock_zone: str = Field(
        "UTC",
        description=(
            "IANA time zone of the built-in '24x7' calendar: where a promised time of day "
            "('next update by 15:00') and the due date of its recoveries are read."
        ),
    )
    waiting_statuses: list[str] = Field(
        ["Waiting for customer", "Waiting for client"],
        description="Jira statuses in which the clocks pause.",
    )
    client_comment_public: bool = Field(
        False,
        description=(
            "A public comment is a client update: for Jira Service Management projects only "
            "(elsewhere Cloud marks every comment public)."
        ),
    )
    client_comment_marker: str = Field(
        "[client]", description="A comment containing this text is a client update."
    )
    client_comment_visibilities: list[str] = Field(
        [], description="Comments restricted to one of these groups or roles are client updates."
    )
    promises_extend: bool = Field(
        False, description="A stated next update may be later than the cadence allows."
    )
    due_field: str = Field("duedate", description="Jira date field showing the next deadline.")

    @field_validator("policies", "calendars", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any, info: ValidationInfo) -> Any:
        # A file naming one severity or calendar keeps the defaults of the others.
        defaults: dict[str, Any] = (
            {str(k): v for k, v in _DEFAULT_POLICIES.items()}
            if info.field_name == "policies"
            else {"business": CalendarSettings()}
        )
        return {**defaults, **value} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _calendars_exist(self) -> SlaSettings:
        try:
            ZoneInfo(self.around_the_clock_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.around_the_clock_zone!r}") from None
        for severity, policy in self.policies.items():
            if policy.calendar != "24x7" and policy.calendar not in self.calendars:
                raise ValueError(f"{severity}: no calendar named {policy.calendar!r}")
        return self


class FollowupSettings(Section):
    """The positive-touchpoint task after resolution."""

    due_after_days: dict[Severity, int] = Field(
        dict.fromkeys(SEVERITIES, FOLLOWUP_DAYS),
        description=f"Days after resolution, per severity; one left out keeps {FOLLOWUP_DAYS}.",
    )
    on_reopen: Literal["hold", "cancel"] = Field("hold", description="What a reopen does to it.")
    labels: list[str] = Field(
        ["recovery-followup"], description="Labels put on every follow-up task."
    )
    hold_label: str = Field(
        "followup-on-hold", description="Label on a follow-up while its recovery is reopened."
    )
    link_type: str = Field("Relates", description="Link type between a recovery and its follow-up.")
    check_every: Duration = Field(
        timedelta(hours=1), description="How often an open follow-up task is read from Jira."
    )
    have_subtask: str = Field(
        "HAVE", description="Finds the HAVE subtask: a word of its summary, or one of its labels."
    )
    root_cause_fields: dict[RootCausePart, str] = Field(
        {},
        description=(
            "Root-cause part -> custom field id holding it (e.g. customfield_10050); "
            "parts not listed are read from the HAVE subtask's text."
        ),
    )
    root_cause_headings: dict[RootCausePart, list[str]] = Field(
        {part: list(labels) for part, labels in ROOT_CAUSE_HEADINGS.items()},
        description="Labels that open each root-cause section in the HAVE subtask's text.",
    )

    @field_validator("due_after_days")
    @classmethod
    def _every_severity(cls, days: dict[Severity, int]) -> dict[Severity, int]:
        # A team that shortens only sev1 expects the other severities to keep the default.
        short = sorted(sev for sev, count in days.items() if count < 1)
        if short:
            raise ValueError(f"a follow-up is due at least 1 day after resolution: {short}")
        return {sev: days.get(sev, FOLLOWUP_DAYS) for sev in SEVERITIES}

    @model_validator(mode="after")
    def _jira_labels(self) -> FollowupSettings:
        for label in (*self.labels, self.hold_label):
            if not label or any(char.isspace() for char in label):
                raise ValueError(f"a Jira label cannot be empty or hold spaces: {label!r}")
        return self


class HealthSettings(Section):
    """The HTTP endpoints for probes and metrics."""

    enabled: bool = Field(True, description="Serve /healthz, /readyz and /metrics.")
    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 in a container).")
    port: int = Field(8089, ge=0, le=65535, description="Port to listen on (0 picks a free one).")
    stale_after: Duration = Field(
        timedelta(minutes=5), description="/healthz fails when the loop made no progress this long."
    )


class LoopSettings(Section):
    """The supervisor's rhythm."""

    sweep_interval: Duration = Field(
        timedelta(seconds=15), description="How often clocks are swept."
    )
    shutdown_grace: Duration = Field(
        timedelta(seconds=8),
        description=(
            "Time to finish on SIGTERM; a Jira or mail call still in flight then is cut short "
            "(exit code 1). Keep it below the service manager's own stop timeout."
        ),
    )
    max_backoff: Duration = Field(timedelta(minutes=5), description="Longest wait after failures.")


class LogSettings(Section):
    """Log output."""

    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Lowest level.")
    format: Literal["auto", "json", "console"] = Field(
        "auto", description="'auto': console on a terminal, JSON lines otherwise."
    )


class Settings(BaseSettings):
    """Everything the worker can be told."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
    )

    store: StoreSettings = Field(StoreSettings(), validate_default=True)
    imap: ImapSettings = ImapSettings()
    maildir: MaildirSettings = MaildirSettings()
    jira: JiraSettings = JiraSettings()
    detection: DetectionSettings = DetectionSettings()
    alerts: AlertSettings = AlertSettings()
    sla: SlaSettings = SlaSettings()
    followup: FollowupSettings = FollowupSettings()
    health: HealthSettings = HealthSettings()
    loop: LoopSettings = LoopSettings()
    log: LogSettings = LogSettings()

    @field_validator("store")
    @classmethod
    def _store_default(cls, store: StoreSettings) -> StoreSettings:
        # Resolved when settings are read, so the environment of this run names the folder
        # and the generated documentation shows the setting as it is written.
        return store if store.url else store.model_copy(update={"url": default_store_url()})

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        readers: list[Callable[[], SecretStr | None]] = [
            self.imap.resolved_password,
            self.imap.resolved_client_secret,
            self.jira.resolved_api_token,
            self.jira.resolved_pat,
            lambda: self.alerts.slack_webhook_url,
            lambda: self.alerts.teams_webhook_url,
            self.alerts.resolved_webhook_secret,
        ]
        values = []
        for read in readers:
            try:
                secret = read()
            except ValueError:
                continue  # an unreadable secret file holds nothing to hide
            if secret and secret.get_secret_value():
                values.append(secret.get_secret_value())
        # Sent with a user name, they travel base64-encoded: an echoed header shows that form.
        for user, read_secret in (
            (self.jira.email, self.jira.resolved_api_token),
            (self.imap.username, self.imap.resolved_password),
        ):
            try:
                secret = read_secret()
            except ValueError:
                continue
            if user and secret and secret.get_secret_value():
                values += basic_credentials(user, secret.get_secret_value())
        return values


def _toml_source(path: Path) -> type[Settings]:
    class FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            toml = TomlConfigSettingsSource(settings_cls, toml_file=path)
            return (init_settings, env_settings, dotenv_settings, toml)

    return FromFile


def load_settings(config: Path | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Read settings, or raise ConfigurationError listing every problem and its fix."""
    cls: type[Settings] = Settings
    if config is not None:
        if not config.is_file():
            raise ConfigurationError(f"config file not found: {config}")
        try:
            tomllib.loads(config.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{config} is not valid TOML: {exc}") from None
        cls = _toml_source(config)
    problems = [
        f"  - {name}: names no section (misspelled? a section and its key are joined with "
        f"'{ENV_NESTED_DELIMITER}'); see config/recovery-worker.example.toml"
        for name in unknown_environment(os.environ)
    ]
    try:
        settings = cls(_env_file=env_file)
    except ValidationError as exc:
        problems += describe_validation_error(exc).splitlines()[1:]
    if problems:
        raise ConfigurationError(
            "\n".join([f"{len(problems)} problem(s) in the settings:", *problems])
        )
    return settings


def unknown_environment(environ: Mapping[str, str]) -> list[str]:
    """Variables with the prefix whose first part names no section.

    pydantic-settings skips them without a word, so ``RECOVERY_WORKER_JIRA_URL`` (one
    underscore) would leave Jira off while the operator believes it is set.
    """
    sections = set(Settings.model_fields)
    return sorted(
        name
        for name in environ
        if name.upper().startswith(ENV_PREFIX)
        and name[len(ENV_PREFIX) :].split(ENV_NESTED_DELIMITER)[0].lower() not in sections
    )


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the TOML key and the environment variable; no input values."""
    lines = [f"{exc.error_count()} problem(s) in the settings:"]
    for error in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in error["loc"]]
        key = ".".join(loc) or "(top level)"
        env = ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc).upper()
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown setting (misspelled?); see config/recovery-worker.example.toml"
        lines.append(f"  - {key}: {message}  [TOML: {key} | env: {env}]")
    return "\n".join(lines)
