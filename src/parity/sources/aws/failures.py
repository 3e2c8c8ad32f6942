"""AWS answers that are not answers, and what may be said about a failed call.

Two things a hostile or broken endpoint (a proxy's HTML page, a wrong ``endpoint_url``, a region that
does not exist) must never do:

- **read as "nothing there"**: botocore parses a ``200`` whose body is an HTML page or empty as a valid,
  empty listing for JSON and REST-XML services, which would make every declared resource ``missing``.
  :func:`install` adds a ``before-parse`` hook to a client that raises :class:`UnexpectedResponse`
  instead, before parsing (and without retrying: the same page would come back);
- **be echoed**: botocore's errors carry the response body (``ResponseParserError`` prints it whole; a
  JSON service's non-JSON error body becomes the ``ClientError`` message), and a body can hold tags and
  other values parity never shows in clear. :func:`describe` names the exception class, the AWS error
  code and HTTP status, or a fixed phrase, and never any text that came from the response.
"""

from __future__ import annotations

import http.client
import re
import traceback
from typing import Any

import botocore.exceptions
from botocore.parsers import ResponseParserError

__all__ = ["UnexpectedResponse", "describe", "install"]

MAX_REASON = 300


class UnexpectedResponse(botocore.exceptions.BotoCoreError):  # type: ignore[misc]
    """A successful HTTP status with a body that is not the service's answer (an HTML page, nothing, ...)."""

    fmt = "the answer to {service}:{operation} (HTTP {status}) is {found}, not {expected}"


_JSON_PROTOCOLS = frozenset({"json", "rest-json"})
_XML_PROTOCOLS = frozenset({"query", "ec2", "rest-xml"})
_HTML = re.compile(rb"(?:<\?xml[^>]*\?>\s*)?<(?:!doctype\s+html|html)\b", re.IGNORECASE)
_HEAD = 512  # bytes looked at: the checks only need the start of a body


def _protocol(operation_model: Any) -> str:
    service = operation_model.service_model
    return str(getattr(service, "resolved_protocol", None) or service.metadata.get("protocol", ""))


def _raw_payload(operation_model: Any) -> bool:
    """Whether the answer's body is a raw payload (S3's bucket policy document) rather than a structure."""
    shape = operation_model.output_shape
    if shape is None:
        return False
    payload = shape.serialization.get("payload")
    return payload is not None and shape.members[payload].type_name in ("blob", "string")


def _has_body_members(operation_model: Any) -> bool:
    shape = operation_model.output_shape
    if shape is None:
        return False
    if _protocol(operation_model) in ("json", "query", "ec2"):
        return bool(shape.members)
    return any(not m.serialization.get("location") for m in shape.members.values())


def _found(body: bytes, protocol: str, operation_model: Any) -> tuple[str, str] | None:
    """``(what was found, what was expected)`` when the body cannot be the service's answer, else None."""
    head = body[:_HEAD].lstrip(b"\xef\xbb\xbf \t\r\n")
    expected = "a JSON document" if protocol in _JSON_PROTOCOLS else "an XML document"
    if _HTML.match(head):  # by the body: some AWS look-alikes label JSON answers text/html
        return "an HTML page", expected
    if not head:
        return ("empty", expected) if _has_body_members(operation_model) else None
    if protocol in _JSON_PROTOCOLS and not head.startswith(b"{"):
        return "not JSON", expected
    if protocol in _XML_PROTOCOLS and not head.startswith(b"<"):
        return "not XML", expected
    return None


def _check(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    status = response_dict.get("status_code") or 0
    if not 200 <= status < 300 or operation_model.has_streaming_output:
        return
    body = response_dict.get("body")
    protocol = _protocol(operation_model)
    if not isinstance(body, bytes) or protocol not in _JSON_PROTOCOLS | _XML_PROTOCOLS:
        return
    if _raw_payload(operation_model):
        return
    found = _found(body, protocol, operation_model)
    if found is not None:
        raise UnexpectedResponse(
            service=operation_model.service_model.service_name,
            operation=operation_model.name,
            status=status,
            found=found[0],
            expected=found[1],
        )


def install(client: Any) -> Any:
    """Make ``client`` raise :class:`UnexpectedResponse` for a successful status with a body that is no answer."""
    client.meta.events.register("before-parse", _check)
    return client


# Describing a failure -----------------------------------------------------------------------------------

# botocore errors whose text is made from what parity sent or configured (an endpoint URL, a region, a
# parameter name), never from a response body.
_OWN_TEXT: tuple[type[Exception], ...] = (
    botocore.exceptions.ConnectionError,
    botocore.exceptions.HTTPClientError,
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.NoRegionError,
    botocore.exceptions.ParamValidationError,
    UnexpectedResponse,
)
_NOT_OWN_TEXT: tuple[type[Exception], ...] = (botocore.exceptions.ResponseStreamingError,)
_SHAPE_ERRORS: tuple[type[Exception], ...] = (KeyError, IndexError, TypeError, ValueError, AttributeError)
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,79}")


def _where(e: BaseException) -> str:
    """`` in file.py:LINE`` of the innermost parity frame of ``e``'s traceback (for a bug report), or ""."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "/parity/" in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    f = frames[-1]
    return f" (in {f.filename.replace(chr(92), '/').rsplit('/parity/', 1)[-1]}:{f.lineno})"


def describe(e: BaseException) -> str:
    """The exception class and a short reason that holds nothing the response said except an AWS error
    code: ``ClientError AccessDenied (HTTP 403)``, ``ResponseParserError: the response is not the service's
    answer``, ``EndpointConnectionError: Could not connect to the endpoint URL: "https://..."``."""
    name = type(e).__name__
    if isinstance(e, botocore.exceptions.ClientError):
        err = e.response.get("Error") or {}
        code = str(err.get("Code") or "")
        status = (e.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        parts = [name]
        if _CODE.fullmatch(code) and code != name:
            parts.append(code)
        if isinstance(status, int) and not isinstance(status, bool):
            phrase = http.client.responses.get(status, "")
            parts.append(f"(HTTP {status} {phrase})" if phrase else f"(HTTP {status})")
        return " ".join(parts)[:MAX_REASON]
    if isinstance(e, _OWN_TEXT) and not isinstance(e, _NOT_OWN_TEXT):
        text = str(e).splitlines()[0] if str(e) else ""
        return f"{name}: {text}"[:MAX_REASON] if text else name
    if isinstance(e, botocore.exceptions.BotoCoreError):
        return f"{name}: the AWS client failed"
    if isinstance(e, ResponseParserError):  # its text ends with the whole body
        return f"{name}: the response could not be parsed as the service's answer"
    if isinstance(e, _SHAPE_ERRORS):
        return f"{name}: the response did not have the expected shape{_where(e)}"[:MAX_REASON]
    return f"{name}: unexpected failure{_where(e)}"[:MAX_REASON]
