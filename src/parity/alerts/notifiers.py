"""Sending one alert document: webhook (JSON POST), Slack (incoming webhook) and email (SMTP).

Every failure becomes a :class:`DeliveryError` whose text is one safe line: the destination's scheme, host and
port and the exception's class (with the operating system's words for a network error, such as "Connection
refused"), never the URL's path or query, a header value or a password (the Slack URL and headers are
secrets), and never the text of an unexpected exception, which may quote the URL. Redirects are not followed
(a redirected POST would silently become a GET and look delivered).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import orjson

from parity import __version__
from parity.alerts.settings import AlertConfig, EmailAlert, SlackAlert, WebhookAlert

MAX_LISTED = 20  # findings listed by name in a Slack or email message; the rest are counted
USER_AGENT = f"parity/{__version__}"


class DeliveryError(Exception):
    """A delivery failed; the message is safe to log (no secret)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


_SAFE_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]+")


def _host(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: never its user info, path or query (nor anything unparsable)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a broken IPv6 literal
        return "?://?"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # out of range, not a number
        port = ":?"
    scheme = parts.scheme if parts.scheme.isalpha() else "?"
    host = parts.hostname if parts.hostname and _SAFE_HOST.fullmatch(parts.hostname) else "?"
    return f"{scheme}://{host}{port}"


def _mentions_url(text: str, url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    secret = [url, parts.netloc, parts.query, parts.path if len(parts.path) > 1 else ""]
    return any(s and s in text for s in secret)


def safe_reason(e: BaseException, url: str = "") -> str:
    """The exception's class, and the operating system's words for a network error (``ConnectionRefusedError:
    Connection refused``): never the exception's own text, which may quote a URL or a secret."""
    name = type(e).__name__
    words = e.strerror if isinstance(e, OSError) else None
    if isinstance(words, str) and words and "\n" not in words and not _mentions_url(words, url):
        return f"{name}: {words}"
    return name


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> None:
    """POST ``body``; anything but a 2xx answer, and any exception, raises DeliveryError (one safe line)."""
    where = _host(url)
    try:
        req = urllib.request.Request(url, data=body, method="POST", headers={"User-Agent": USER_AGENT, **headers})
        req.add_header("Content-Type", "application/json")
        with _OPENER.open(req, timeout=timeout) as resp:
            resp.read(65536)
            status = resp.status
    except urllib.error.HTTPError as e:
        raise DeliveryError(f"{where} answered HTTP {int(e.code)}") from None
    except urllib.error.URLError as e:
        reason = e.reason if isinstance(e.reason, BaseException) else e
        raise DeliveryError(f"cannot reach {where}: {safe_reason(reason, url)}") from None
    except Exception as e:  # timeouts, resets, http.client.InvalidURL, a malformed URL: never their text
        raise DeliveryError(f"cannot reach {where}: {safe_reason(e, url)}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"{where} answered HTTP {status}")


# ---------------------------------------------------------------- text shared by Slack and email


def subject(doc: dict[str, Any]) -> str:
    n = len(doc.get("findings", []))
    envs = ", ".join(doc.get("environments", []))
    return f"parity: {n} new or recurring drift finding{'s' if n != 1 else ''} in {envs} (scan {doc.get('scan_id')})"


def finding_lines(doc: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(finding, one plain line) for each listed finding, most severe first (the document's order)."""
    out = []
    for f in doc.get("findings", [])[:MAX_LISTED]:
        envs = " / ".join(f.get("environments", []))
        out.append((f, f"[{f['severity'].upper()}] {f['kind']} {f['status']}: {f['message']} ({envs}; id {f['id']})"))
    return out


def _more(doc: dict[str, Any]) -> int:
    return max(0, len(doc.get("findings", [])) - MAX_LISTED)


# ---------------------------------------------------------------- webhook


def webhook_request(n: WebhookAlert, doc: dict[str, Any], delivery_id: str) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(doc)
    headers = {k: v.get_secret_value() for k, v in n.headers.items()}
    headers["X-Parity-Delivery"] = delivery_id
    headers["X-Parity-Event"] = "alert"
    if n.secret_header is not None:
        key = n.secret_header.secret.get_secret_value().encode()
        headers[n.secret_header.name] = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    return body, headers


# ---------------------------------------------------------------- Slack


def slack_escape(text: str) -> str:
    """Slack's mrkdwn escaping: resource names come from the cloud, so ``<!channel>`` must stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(doc: dict[str, Any]) -> dict[str, Any]:
    head = slack_escape(subject(doc))
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{head}*"}}]
    for f, _ in finding_lines(doc):
        envs = " / ".join(slack_escape(e) for e in f.get("environments", []))
        text = (
            f"*{f['severity'].upper()}* `{f['kind']}` ({f['status']}) in {envs}\n"
            f"{slack_escape(f['message'])[:2500]}\nid `{f['id']}`"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if _more(doc):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"… and {_more(doc)} more"}]})
    return {"text": head, "blocks": blocks}


# ---------------------------------------------------------------- email


def email_message(n: EmailAlert, doc: dict[str, Any]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject(doc)
    msg["From"] = n.sender
    msg["To"] = ", ".join(n.to)
    lines = [subject(doc), ""] + [line for _, line in finding_lines(doc)]
    if _more(doc):
        lines.append(f"... and {_more(doc)} more")
    msg.set_content("\n".join(lines) + "\n")
    rows = "".join(
        f"<tr><td>{html.escape(f['severity'])}</td><td>{html.escape(f['kind'])}</td>"
        f"<td>{html.escape(f['status'])}</td><td>{html.escape(f['message'])}</td>"
        f"<td><code>{html.escape(f['id'])}</code></td></tr>"
        for f, _ in finding_lines(doc)
    )
    more = f"<p>… and {_more(doc)} more</p>" if _more(doc) else ""
    msg.add_alternative(
        f"<html><body><h3>{html.escape(subject(doc))}</h3><table border='1' cellpadding='4'>"
        f"<tr><th>severity</th><th>kind</th><th>status</th><th>finding</th><th>id</th></tr>{rows}</table>"
        f"{more}</body></html>",
        subtype="html",
    )
    return msg


def send_email(n: EmailAlert, msg: EmailMessage) -> None:
    where = f"smtp://{n.smtp_host}:{n.smtp_port}"
    try:
        with smtplib.SMTP(n.smtp_host, n.smtp_port, timeout=n.timeout) as smtp:
            if n.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if n.username:
                smtp.login(n.username, n.password.get_secret_value() if n.password else "")
            smtp.send_message(msg)
    except smtplib.SMTPException as e:
        code = getattr(e, "smtp_code", None)
        raise DeliveryError(f"{where}: {type(e).__name__}" + (f" {code}" if isinstance(code, int) else "")) from None
    except Exception as e:  # OSError, and e.g. UnicodeEncodeError quoting part of the password: never its text
        raise DeliveryError(f"cannot reach {where}: {safe_reason(e)}") from None


# ---------------------------------------------------------------- dispatch


def describe(n: AlertConfig) -> str:
    """How messages name a notifier: its kind and outbox id (``slack notifier ops-channel``), never a secret."""
    return f"{n.kind} notifier {n.id}"


def send(n: AlertConfig, doc: dict[str, Any], delivery_id: str) -> None:
    """Deliver ``doc`` through ``n``; raises DeliveryError."""
    if isinstance(n, WebhookAlert):
        body, headers = webhook_request(n, doc, delivery_id)
        post_json(n.url, body, headers, n.timeout)
    elif isinstance(n, SlackAlert):
        post_json(n.webhook_url.get_secret_value(), orjson.dumps(slack_message(doc)), {}, n.timeout)
    else:
        send_email(n, email_message(n, doc))
