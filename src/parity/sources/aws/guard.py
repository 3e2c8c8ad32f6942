"""Read-only by construction: every AWS client parity makes refuses any operation that is not a read.

A botocore ``before-call`` hook checks the operation about to be sent. Allowed: operations named
``List*``, ``Get*``, ``Describe*``, ``Lookup*``, plus the few named reads in :data:`ALWAYS_ALLOWED`
(``sts:AssumeRole`` only mints the session parity itself uses; ``GenerateServiceLastAccessedDetails``
starts a report and changes nothing). Refused even though named like reads (:data:`NEVER_ALLOWED`):
calls that return secret material or data contents (secret values, decrypted parameters, passwords,
registry tokens, object bodies, log events). A refusal raises :class:`ReadOnlyViolation` before any
request leaves the machine.
"""

from __future__ import annotations

from typing import Any

from parity.errors import ParityError

READ_PREFIXES = ("List", "Get", "Describe", "Lookup")

ALWAYS_ALLOWED = frozenset({"AssumeRole", "GenerateServiceLastAccessedDetails", "GenerateCredentialReport"})

NEVER_ALLOWED = frozenset(
    {
        "GetSecretValue",  # secretsmanager: the secret itself
        "BatchGetSecretValue",
        "GetRandomPassword",
        "GetObject",  # s3: object contents
        "GetObjectTorrent",
        "GetAuthorizationToken",  # ecr: a registry credential
        "GetSessionToken",  # sts: credential minting
        "GetFederationToken",
        "GetPasswordData",  # ec2: Windows administrator password
        "GetConsoleOutput",
        "GetConsoleScreenshot",
        "GetLogEvents",  # logs: contents
        "GetQueryResults",
        "GetFunction",  # lambda: a presigned code URL; GetFunctionConfiguration is used instead
        "GetParametersForImport",
    }
)

# Operations that decrypt when asked to: allowed only without decryption.
_DECRYPT_FLAGS = {"GetParameter": "WithDecryption", "GetParameters": "WithDecryption",
                  "GetParametersByPath": "WithDecryption", "GetParameterHistory": "WithDecryption"}  # fmt: skip


class ReadOnlyViolation(ParityError):
    """parity tried to call an AWS operation that is not a read: a bug, stopped before it was sent."""


def is_read(operation: str, params: dict[str, Any] | None = None) -> bool:
    """Whether ``operation`` (botocore's name, e.g. ``ListBuckets``) with ``params`` is a plain read."""
    if operation in NEVER_ALLOWED:
        return False
    flag = _DECRYPT_FLAGS.get(operation)
    if flag is not None and params and params.get(flag):
        return False
    return operation in ALWAYS_ALLOWED or operation.startswith(READ_PREFIXES)


def _check(model: Any, params: dict[str, Any], **_: Any) -> None:
    name = model.name
    if not is_read(name, params):
        service = model.service_model.service_name
        raise ReadOnlyViolation(f"refused {service}:{name}: parity only reads (see parity.sources.aws.guard)")


def install(client: Any) -> Any:
    """Make ``client`` refuse every non-read operation. Returns the client."""
    # before-parameter-build sees the caller's params before serialisation; the model is passed too.
    client.meta.events.register("before-parameter-build", _check_params)
    return client


def _check_params(params: dict[str, Any], model: Any, **_: Any) -> None:
    _check(model, params)


def action_is_read(action: str) -> bool:
    """For an IAM action name (``s3:ListAllMyBuckets``): the same rule on its operation part."""
    return is_read(action.split(":", 1)[-1])
