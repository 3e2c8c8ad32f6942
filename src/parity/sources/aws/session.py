"""AWS sessions: the standard credential chain, an optional profile and role to assume, guarded clients.

Every client is made here, so every client is read-only (:mod:`.guard`), refuses to read an answer that
is not the service's as an empty one (:mod:`.failures`), retries throttling with botocore's adaptive
mode, and talks to ``endpoint_url`` when one is set (LocalStack, moto). An error here names the failure
without echoing the response (:func:`.failures.describe`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from parity.errors import ParityError
from parity.sources.aws import failures, guard
from parity.sources.aws.failures import describe

RETRY_CONFIG = {"mode": "adaptive", "max_attempts": 8}


@dataclass(frozen=True)
class Target:
    """Where one ``aws`` source points."""

    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    endpoint_url: str | None = None
    default_region: str = "us-east-1"
    max_workers: int = 8


class AwsSession:
    """One environment's AWS access: credentials resolved once, guarded clients cached per (service, region).

    boto3 sessions are not thread-safe but clients are: clients are created under a lock and then
    shared by the listing threads.
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}
        self._config = Config(
            retries=RETRY_CONFIG,  # type: ignore[arg-type]
            connect_timeout=5,
            read_timeout=60,
            max_pool_connections=max(10, target.max_workers * 2),
            user_agent_extra="parity",
        )
        try:
            base = boto3.Session(profile_name=target.profile) if target.profile else boto3.Session()
        except botocore.exceptions.ProfileNotFound as e:
            raise ParityError(f"AWS profile not found: {e}") from None
        self._session = self._assume(base) if target.role_arn else base
        self.account = ""
        self.partition = "aws"

    def _assume(self, base: boto3.Session) -> boto3.Session:
        sts = _guarded(
            base.client(
                "sts", region_name=self.region(base), endpoint_url=self.target.endpoint_url, config=self._config
            )
        )
        kwargs: dict[str, Any] = {"RoleArn": self.target.role_arn, "RoleSessionName": "parity-scan"}
        if self.target.external_id:
            kwargs["ExternalId"] = self.target.external_id
        try:
            creds = sts.assume_role(**kwargs)["Credentials"]
        except guard.ReadOnlyViolation:
            raise
        except Exception as e:  # no credentials, whatever the endpoint answered: say why without echoing it
            raise ParityError(f"cannot assume {self.target.role_arn}: {describe(e)}") from None
        return boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.region(base),
        )

    def region(self, session: boto3.Session | None = None) -> str:
        return (session or self._session).region_name or self.target.default_region

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            c = self._clients.get(key)
            if c is None:
                c = _guarded(
                    self._session.client(
                        service, region_name=region, endpoint_url=self.target.endpoint_url, config=self._config
                    )
                )
                self._clients[key] = c
            return c

    def identify(self) -> str:
        """The account id the credentials belong to (sts:GetCallerIdentity). Raises ParityError if none work."""
        try:
            ident = self.client("sts", self.region()).get_caller_identity()
            account = str(ident["Account"])
        except botocore.exceptions.NoCredentialsError:
            raise ParityError(
                "no AWS credentials found (set a profile or role_arn in parity.yaml, or AWS_PROFILE / "
                "AWS_ACCESS_KEY_ID in the environment)"
            ) from None
        except guard.ReadOnlyViolation:
            raise
        except Exception as e:  # whatever the endpoint answered, no identity: say why without echoing it
            raise ParityError(f"AWS credentials do not work: {describe(e)}") from None
        self.account = account
        arn = str(ident.get("Arn", ""))
        self.partition = arn.split(":")[1] if arn.count(":") >= 2 else "aws"
        return self.account


def _guarded(client: Any) -> Any:
    return failures.install(guard.install(client))
