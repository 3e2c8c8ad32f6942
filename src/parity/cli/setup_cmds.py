"""``parity init``, ``parity schema`` and ``parity demo``."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.text import Text

from parity.cli.common import Format, FormatOpt, emit, err_console, load, write_out
from parity.errors import InputError, UsageError

STARTER = """\
# parity.yaml: which environments exist, where their resources come from, and what may differ.
# Reference: `parity schema` prints the JSON Schema of this file (point your editor's YAML plugin at it).
# ${VAR} and ${VAR:-default} are replaced from the environment.

# Where scans and finding history are kept: SQLite by default, PostgreSQL for teams
# (store: postgresql+psycopg://parity@db.internal/parity).
store: sqlite:///.parity/parity.db

environments:
  staging:
    # accounts: ["111111111111"]          # cloud account ids of this environment
    # hostnames: [staging.example.com]    # domains that belong to it
    sources:
      - kind: terraform-state             # Terraform state v4: a file, a folder or a glob
        path: terraform/staging/*.tfstate
      - kind: kubernetes-manifests        # rendered manifests (helm template / kustomize build output)
        path: k8s/staging/
      - kind: config                      # YAML, JSON, .env, .tfvars, .tf, .ini, .properties
        path: config/staging/
  production:
    sources:
      - kind: terraform-state
        path: terraform/production/*.tfstate
      - kind: kubernetes-manifests
        path: k8s/production/
      - kind: config
        path: config/production/
      # An export of what is running (kubectl get deploy,svc,cm -o yaml) compared with the manifests:
      # - kind: kubernetes-manifests
      #   name: cluster
      #   role: live
      #   path: exports/production-cluster.yaml

# The order changes travel in; mirrors default to neighbours in this order.
promotion: [staging, production]

# Intended differences between mirrors: suppressed, and listed as "expected" in the report.
expected:
  - type: aws_db_instance
    path: instance_class
    reason: production is sized for load
  - type: apps/v1/Deployment
    path: spec.replicas
    reason: production runs more replicas

# Known divergences tolerated for a while, with an owner and an expiry.
ignore: []
#  - kind: only_in
#    key: "aws_sqs_queue.batch_reprocess"
#    owner: ana@example.com
#    reason: one-off backfill queue, removed after the migration (OPS-123)
#    expires: 2027-01-31
"""


STDOUT = "-"


def init(
    path: Annotated[
        Path, typer.Argument(help="Where to write the starter config; - prints it to standard output.")
    ] = Path("parity.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter parity.yaml to edit.

    Lists environments, sources, promotion order, expected differences and ignores, each commented.
    An existing file is refused (exit 1, nothing written) unless --force.

    \b
    Examples:
      parity init
      parity init infra/parity.yaml --force
      parity init - | less
    """
    if str(path) == STDOUT:  # `-` is standard output, as for `--images -`; ./- would be the same Path
        write_out(STARTER, None, "starter config")
        return
    if path.exists() and not force:
        raise UsageError(f"{path} already exists (use --force to overwrite)")
    write_out(STARTER, path, "starter config")
    err_console.print(Text("edit its paths, then run `parity scan`"))


def schema() -> None:
    """Print the JSON Schema of parity.yaml, for editors.

    Editors with a YAML plugin use it for completion and validation: save it, then put
    `# yaml-language-server: $schema=.parity/schema.json` on the first line of parity.yaml.

    \b
    Examples:
      mkdir -p .parity && parity schema > .parity/schema.json
    """
    from parity.config import json_schema  # pydantic and the config models: only this command needs them here

    sys.stdout.write(orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2).decode() + "\n")


def example_dir() -> Path:
    """The bundled greenflash example: inside the installed package, or in the source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_examples" / "greenflash", here.parent.parent / "examples" / "greenflash"):
        if (candidate / "parity.yaml").is_file():
            return candidate
    raise UsageError("the bundled example (examples/greenflash) is missing from this installation")


def _check_demo_target(directory: Path, example: Path, force: bool) -> None:
    """Refuse to copy the demo over the user's own files (their parity.yaml first of all).

    A folder an earlier demo made is reused without --force, as the demo promises a history on reruns: it
    is recognised by its parity.yaml, still the bundled one.
    """
    if not directory.exists():
        return
    if not directory.is_dir():
        raise UsageError(f"{directory} already exists and is not a folder: pass --dir a new or empty folder")
    if force or not any(directory.iterdir()):
        return
    mine = directory / "parity.yaml"
    try:
        if mine.is_file() and mine.read_bytes() == (example / "parity.yaml").read_bytes():
            return
    except OSError:
        pass  # unreadable: not a demo we made, so refused below
    raise UsageError(f"{directory} already exists and is not empty (use --force to overwrite)")


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Working folder for the demo: new, empty, or one an earlier demo made.")
    ] = Path("parity-demo"),
    fmt: FormatOpt = Format.table,
    aws: Annotated[
        bool,
        typer.Option("--aws/--no-aws", help="Add live AWS accounts served by a local moto server (when installed)."),
    ] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Copy into a folder that is not empty, overwriting files of the same name.")
    ] = False,
) -> None:
    """Run the bundled demo: copy, scan and report it.

    Copies the bundled greenflash example (staging and production defined by Terraform states,
    Kubernetes manifests and config files, with planted drift) to a working folder, scans it and shows
    the report. Where moto's server is installed (`make demo` installs it), a local server plays a
    staging and a production AWS account, so live AWS drift shows too, without credentials.
    Runs again on the same folder keep the history, so `parity history` has something to show; any other
    folder that is not empty is refused unless --force.

    Exit code: 0 when the demo ran, drift or not (the last lines say what `parity scan` would have
    exited with); 1 on an error.

    \b
    Examples:
      parity demo
      parity demo --no-aws --dir /tmp/parity-demo
      parity demo --format json > demo.json
    """
    from parity.cli.compare_cmds import run_scan
    from parity.demo import aws as demo_aws

    src = example_dir()
    _check_demo_target(directory, src, force)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, directory, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".parity", "__pycache__"))
    except OSError as e:
        raise InputError(str(directory), f"cannot copy the demo there: {e.strerror or e}") from None
    used_aws = aws and demo_aws.available()
    if used_aws:
        saved_profile = os.environ.pop("AWS_PROFILE", None)
        try:
            with demo_aws.moto_server() as url:
                os.environ[demo_aws.ENDPOINT_VAR] = url
                err_console.print(
                    Text(f"live AWS: a local moto server at {url} plays staging and production"), soft_wrap=True
                )
                report = run_scan(load(demo_aws.prepare(directory, url)), None)
        finally:
            os.environ.pop(demo_aws.ENDPOINT_VAR, None)
            if saved_profile is not None:
                os.environ["AWS_PROFILE"] = saved_profile
    else:
        report = run_scan(load(directory / "parity.yaml"), None)
    code = emit(report, fmt, None, strict=False)
    if fmt is Format.table:
        verdict = "drift found" if code == 2 else "no drift"
        exe = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "parity" else Path("parity")
        cfg = "parity-aws.yaml" if used_aws else "parity.yaml"
        # commands to paste into a shell: quoted (a folder may have spaces) and never wrapped at the width
        cd, run = shlex.quote(str(directory)), shlex.quote(str(exe))
        err_console.print(
            Text(
                f"\nThis was a demo: `parity scan` would exit {code} here ({verdict})."
                f"\nTry: cd {cd} && {run} diff staging production --format markdown"
                f"\n     cd {cd} && {run} history -c {cfg} --findings"
                f"\n     cd {cd} && {run} pipeline --format mermaid"
            ),
            soft_wrap=True,
        )
