"""Shared fixtures. The store runs on SQLite always and on the machine's PostgreSQL when reachable."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity import gcpause
from parity.model import Snapshot
from parity.redact import Redactor
from parity.store import Store


@pytest.fixture(autouse=True)
def _collector_never_left_frozen() -> Iterator[None]:
    """The `parity` entry point freezes the collector after its pauses (right for a one-shot process); a test
    that calls it in-process must not leave this long-running test process that way."""
    yield
    if gcpause._freeze_after:
        gcpause.freeze_after_pauses(False)


CORPUS = Path(os.environ.get("PARITY_CORPUS", Path(__file__).resolve().parents[1].parent / "shared" / "corpus"))
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "greenflash"
PG_ADMIN_URL = os.environ.get("PARITY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="module", params=["c", "python"])
def both_walkers(request: pytest.FixtureRequest) -> Iterator[str]:
    """Runs a module's tests with the C canonical walk and again with the Python one it ports
    (``pytestmark = pytest.mark.usefixtures("both_walkers")``)."""
    from parity.normalize import canonical

    if request.param == "c" and canonical.walker() is canonical._walk:
        pytest.skip("the C canonical walk is not built here (no C compiler at install time, or PARITY_PURE_PYTHON)")
    saved = canonical.walker
    if request.param == "python":
        canonical.walker = lambda: canonical._walk  # type: ignore[assignment]
    try:
        yield request.param
    finally:
        canonical.walker = saved  # type: ignore[method-assign]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the bundled greenflash example to run commands on (some test files have their own)."""
    d = tmp_path / "greenflash"
    shutil.copytree(EXAMPLE, d)
    return d


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(b"parity-tests-fixed-key-0123456789")


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else why not (the skip reason)."""
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(sa.text("select 1"))
        eng.dispose()
        return None
    except Exception as e:  # any failure means "not reachable": report it as the skip reason
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(e).__name__}: {str(e).splitlines()[0]}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'parity.db'}"
        return
    why = _pg_available()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(why + " (CI always has PostgreSQL)")
        pytest.skip(why)
    import sqlalchemy as sa

    name = f"parity_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store on each backend (see ``store_url``)."""
    s = Store(store_url)
    s.migrate()
    yield s
    s.close()


# AWS: moto's server over real HTTP on a loopback port ---------------------------------------------------

MOTO_ENV = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "false",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """One moto server for the session; tests isolate themselves by using fresh account ids."""
    saved = {k: os.environ.get(k) for k in (*MOTO_ENV, "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
    os.environ.update(MOTO_ENV)
    for k in ("AWS_PROFILE",):
        os.environ.pop(k, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def new_account() -> str:
    """A fresh 12-digit account id: moto keeps each account's state apart."""
    return str(100000000000 + uuid.uuid4().int % 899999999999)


def account_session(moto_url: str, account: str, region: str = "eu-west-1") -> object:
    """An unguarded boto3 session inside ``account`` (for tests to create resources)."""
    import boto3

    sts = boto3.client("sts", endpoint_url=moto_url, region_name=region)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="tests")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def scan_aws(moto_url: str, account: str, redactor: Redactor, include: list[str],
             regions: tuple[str, ...] = ("eu-west-1", "us-east-1")) -> Snapshot:  # fmt: skip
    """The live ``aws`` source over ``account`` for the ``include`` types, asserting nothing went unchecked."""
    from parity.config import AwsSource
    from parity.registry import CollectContext
    from parity.sources.aws.collector import collect

    spec = AwsSource.model_validate({"kind": "aws", "regions": list(regions), "endpoint_url": moto_url,
                                     "role_arn": f"arn:aws:iam::{account}:role/parity-readonly",
                                     "resource_types": {"include": include}})  # fmt: skip
    ctx = CollectContext(environment="staging", source_name="aws", base_dir=Path("."), redactor=redactor,
                         role="live", tokens={})  # fmt: skip
    (snap,) = collect(spec, ctx)
    assert snap.coverage.complete, snap.coverage.gaps
    return snap
