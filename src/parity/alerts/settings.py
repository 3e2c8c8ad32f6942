"""The ``alerts:`` list of parity.yaml: webhook, Slack and email notifiers.

Secret values (header values, the Slack webhook URL, the SMTP password, the signing secret) are
:class:`~pydantic.SecretStr`: given as ``${VAR}`` in the file, never shown by ``repr`` or in messages.
Each notifier has a stable ``id`` (its ``name``, else its kind and a hash of its destination) that the outbox
in the store keys deliveries by, so reordering the list does not send an alert to the wrong place.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from parity.watch.settings import Duration

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HEADER = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


_HOST_NAME = re.compile(
    r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?"
)


def _check_http_url(v: str) -> str:
    """``v`` when it is an http(s) URL parity can POST to; else ValueError saying what is wrong.

    The message never quotes the URL (a Slack URL is a secret; a webhook URL may carry a token)."""
    if not v.isascii() or any(c.isspace() or not c.isprintable() for c in v):
        raise ValueError(
            "must be a URL without whitespace, control or non-ASCII characters (percent-encode them; write an "
            "international host name in its xn-- form)"
        )
    scheme, sep, _ = v.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    try:
        parts = urlsplit(v)
    except ValueError:  # an unclosed IPv6 bracket
        raise ValueError("has an invalid host") from None
    if "@" in parts.netloc:
        raise ValueError("must not hold a user name or password: send credentials in `headers`")
    host = parts.hostname or ""
    if host.startswith("[") or ":" in host:
        try:
            ipaddress.IPv6Address(host.strip("[]"))
        except ValueError:
            raise ValueError("has an invalid host") from None
    elif not host:
        raise ValueError("has no host")
    elif not _HOST_NAME.fullmatch(host):
        raise ValueError("has an invalid host name (letters, digits, '-', '.')")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("has an invalid port (a number from 1 to 65535)")
    return v


class _NotifierBase(_Strict):
    name: str | None = Field(default=None, description="A unique name (default: kind and a hash of the destination).")
    min_severity: Literal["critical", "high", "medium", "low", "info"] = Field(
        default="info", description="Send only findings at least this severe."
    )
    max_attempts: int = Field(default=8, ge=1, le=100, description="Deliveries tried before an alert is given up.")
    backoff: Duration = Field(
        default=30.0, description="Wait before the first retry; doubled after each failure, at most 1h."
    )
    timeout: Duration = Field(default=10.0, description="Network timeout of one delivery.")

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str | None) -> str | None:
        if v is not None and not _NAME.fullmatch(v):
            raise ValueError(f"{v!r}: letters, digits, '.', '_' and '-' only, at most 64")
        return v

    def destination(self) -> str:
        raise NotImplementedError

    @property
    def id(self) -> str:
        """The outbox key of this notifier (never contains a secret)."""
        if self.name:
            return self.name
        kind = getattr(self, "kind", "notifier")
        return f"{kind}-{hashlib.sha256(self.destination().encode()).hexdigest()[:10]}"


class SecretHeader(_Strict):
    """Sign each webhook body: ``NAME: sha256=HEX(HMAC-SHA256(secret, body))``, as GitHub does."""

    name: str = Field(default="X-Parity-Signature-256", description="The header carrying the signature.")
    secret: SecretStr = Field(description="The signing key, e.g. ${PARITY_WEBHOOK_SECRET}.")

    @field_validator("name")
    @classmethod
    def _header_ok(cls, v: str) -> str:
        if not _HEADER.fullmatch(v):
            raise ValueError(f"{v!r} is not a valid HTTP header name")
        return v


class WebhookAlert(_NotifierBase):
    """POST the ``parity/findings@1`` document of a scan's new and recurring findings as JSON."""

    kind: Literal["webhook"]
    url: str = Field(description="The http(s) URL to POST to.")
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="Extra headers (values may be ${VAR}).")
    secret_header: SecretHeader | None = Field(default=None, description="HMAC signature of the body.")

    @field_validator("url")
    @classmethod
    def _url_ok(cls, v: str) -> str:
        return _check_http_url(v)

    @field_validator("headers")
    @classmethod
    def _headers_ok(cls, v: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for k, val in v.items():
            if not _HEADER.fullmatch(k):
                raise ValueError(f"{k!r} is not a valid HTTP header name")
            if any(c in val.get_secret_value() for c in "\r\n"):
                raise ValueError(f"header {k!r}: a value cannot contain a line break")
        return v

    def destination(self) -> str:
        return self.url


class SlackAlert(_NotifierBase):
    """A Slack incoming webhook: one readable message per scan."""

    kind: Literal["slack"]
    webhook_url: SecretStr = Field(description="The incoming-webhook URL (a secret: use ${VAR}).")

    @field_validator("webhook_url")
    @classmethod
    def _url_ok(cls, v: SecretStr) -> SecretStr:
        _check_http_url(v.get_secret_value())
        return v

    def destination(self) -> str:
        return self.webhook_url.get_secret_value()


class EmailAlert(_NotifierBase):
    """Mail over SMTP: a plain-text and an HTML part."""

    kind: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(alias="from", description="The From address.")
    to: list[str] = Field(min_length=1, description="Recipients.")
    starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS (certificate checked).")
    username: str | None = None
    password: SecretStr | None = Field(default=None, description="Use ${VAR}; never written in the file.")

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for a in v:
            if not _EMAIL.fullmatch(a):
                raise ValueError(f"{a!r} is not an email address")
        return v

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        if not _EMAIL.search(v) or any(c in v for c in "\r\n"):
            raise ValueError(f"{v!r} is not an email address")
        return v

    def destination(self) -> str:
        return f"{self.smtp_host}:{self.smtp_port}:{','.join(self.to)}"


AlertConfig = Annotated[WebhookAlert | SlackAlert | EmailAlert, Field(discriminator="kind")]
ALERT_KINDS: tuple[str, ...] = ("webhook", "slack", "email")
