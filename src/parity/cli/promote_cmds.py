"""``parity promote-check``: before a deploy, are these artifacts promoted, and is the stage before clean?"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from parity.cli.common import DEFAULT_CONFIG_PATH, ConfigOpt, Format, OutputOpt, load, write_out
from parity.cli.compare_cmds import open_store
from parity.errors import UsageError

# The promotion check (the Terraform plan reader, the store, the config models) is imported where it is
# used: this module's top level is loaded for every command (see parity.cli.common).
if TYPE_CHECKING:
    from parity.config import LoadedConfig
    from parity.promotion.check import Candidate, CheckResult
    from parity.redact import Redactor

SCHEMA = "parity/promote-check@1"


def _manifest_candidates(
    loaded: LoadedConfig, target: str, path: Path, redactor: Redactor, notes: list[str]
) -> list[Candidate]:
    from parity.config import KubernetesManifestsSource
    from parity.promotion import placeholders
    from parity.promotion.check import from_resources
    from parity.registry import CollectContext, source_kinds

    spec = KubernetesManifestsSource(kind="kubernetes-manifests", path=str(path.resolve()), kustomize=False)
    ctx = CollectContext(
        environment=target,
        source_name="manifest",
        base_dir=Path.cwd(),
        redactor=redactor,
        role="declared",
        tokens=loaded.config.all_tokens(),
    )
    ph = placeholders(loaded.config)[target]
    snaps = source_kinds()["kubernetes-manifests"].collect(spec, ctx)
    return from_resources([r for s in snaps for r in s.resources], ph, str(path), notes)


def _previous(loaded: LoadedConfig, target: str) -> str:
    order = loaded.config.promotion
    loaded.check_environments([target])
    if target not in order or order.index(target) == 0:
        raise UsageError(f"{target!r} has no earlier stage in promotion ({', '.join(order) or 'empty'})")
    return order[order.index(target) - 1]


NOTHING_CHECKED = "nothing was checked: the input holds no image, Lambda code, Helm chart or module"


def _verdict(result: CheckResult) -> str:
    if result.reasons:
        return "blocked"
    return "clear" if result.judged else "nothing checked"


def _document(result: CheckResult, strict: bool) -> dict[str, Any]:
    from parity.serialize import finding_to_dict

    return {
        "schema": SCHEMA,
        "to": result.target,
        "from": result.previous,
        "verdict": _verdict(result),
        "checked": len(result.judged),
        "complete": result.complete,
        "artifacts": [
            {
                "kind": c.artifact.kind,
                "artifact": c.artifact.shown,
                "origin": c.origin,
                "ran_in_previous": seen is not None,
                "first_seen_in_previous": seen.first.isoformat() if seen is not None else None,
            }
            for c, seen in result.judged
        ],
        "drift": [finding_to_dict(f) for f in result.drift],
        "reasons": result.reasons,
        "notes": result.notes,
        "exit_code": result.exit_code(strict),
    }


def _clear_line(result: CheckResult) -> str:
    if not result.judged:
        return f"no open high-severity drift in {result.previous} (no artifact was checked)"
    ran = (
        f"every artifact checked ran in {result.previous} (some were skipped: see the notes)"
        if result.notes
        else f"every artifact ran in {result.previous}"
    )
    return f"{ran}; no open high-severity drift there"


def _markdown(result: CheckResult) -> str:
    out = [f"# parity promote-check: {result.previous} → {result.target}: **{_verdict(result)}**", ""]
    if result.judged:
        out += [f"| artifact | kind | from | ran in {result.previous} |", "|---|---|---|---|"]
        for c, seen in result.judged:
            ran = f"since {seen.first:%Y-%m-%d %H:%M} UTC" if seen else "**never**"
            out.append(f"| `{_md(c.artifact.shown)}` | {c.artifact.kind} | {_md(c.origin)} | {ran} |")
        out.append("")
    else:
        out += [f"{NOTHING_CHECKED}.", ""]
    for r in result.reasons:
        out.append(f"- {_md(r)}")
    if not result.reasons:
        out.append(f"- {_clear_line(result)}")
    for n in result.notes:
        out.append(f"- note: {_md(n)}")
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    """Text from the input (file names, references) kept on one line of a table or list."""
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _table(result: CheckResult) -> str:
    buf = io.StringIO()
    console = Console(highlight=False, file=buf, width=120)
    if result.judged:
        t = Table(title=f"promote-check {result.previous} → {result.target}", title_justify="left")
        for col in ("artifact", "kind", "from", f"ran in {result.previous}"):
            t.add_column(col, overflow="fold")
        for c, seen in result.judged:
            ran = Text(f"since {seen.first:%Y-%m-%d %H:%M} UTC") if seen else Text("never", style="bold red")
            t.add_row(Text(c.artifact.shown), c.artifact.kind, Text(c.origin), ran)
        console.print(t)
    else:
        console.print(Text(f"promote-check {result.previous} → {result.target}"))
        console.print(Text(f"! {NOTHING_CHECKED}", style="yellow"))
    for n in result.notes:
        console.print(Text(f"note: {n}", style="yellow"), soft_wrap=True)  # one note, one line
    for r in result.reasons:
        console.print(Text(f"✗ {r}", style="red"), soft_wrap=True)
    if not result.reasons:
        console.print(Text(f"✓ {_clear_line(result)}"))
    return buf.getvalue()


def promote_check(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The stage about to be deployed to, e.g. production: an environment of promotion: in "
            "parity.yaml, not the first.",
        ),
    ],
    manifest: Annotated[
        list[Path] | None,
        typer.Option("--manifest", help="Rendered Kubernetes manifests: a file or a folder (repeatable)."),
    ] = None,
    images: Annotated[
        str | None, typer.Option("--images", help="A file with one image reference per line, or - for standard input.")
    ] = None,
    plan: Annotated[
        list[Path] | None, typer.Option("--plan", help="`terraform show -json` output of a plan (repeatable).")
    ] = None,
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="Output format: table, json (parity/promote-check@1) or markdown; sarif and junit print the table.",
            case_sensitive=False,
        ),
    ] = Format.table,
    output: OutputOpt = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 3 when nothing blocks but nothing was checked, or something in the input was skipped.",
        ),
    ] = False,
) -> None:
    """Block a deploy whose artifacts skipped the stage before.

    Before a deploy (CI): exit 2 with the reasons if an artifact about to be deployed to --to (an image,
    Lambda code, a Helm chart or module, read from --manifest, --images or --plan) never ran in the stage
    before it (per the stored scans), or if that stage has open high or critical drift. Give at least
    one of --manifest, --images, --plan.

    Exit codes: 0 clear, 2 blocked, 1 error (bad input, no earlier stage, the earlier stage never scanned),
    3 with --strict when nothing blocks but no artifact was found in the input, or one was skipped (a note
    says which: an invalid image reference, a wrong shape). Without --strict those exit 0 and say so.

    \b
    Examples:
      parity promote-check --to production --manifest kubernetes/production/
      echo ghcr.io/greenflash/api:3.1.1-hotfix | parity promote-check --to production --images -
    """
    from parity.promotion import ledger_for, placeholders
    from parity.promotion.artifacts import cap_notes
    from parity.promotion.check import check, images_from_lines, read_plan_file
    from parity.redact import Redactor

    loaded = load(config)
    target = to
    previous = _previous(loaded, target)
    if not (manifest or images or plan):
        raise UsageError("nothing to check: give --manifest, --images or --plan")
    ph = placeholders(loaded.config)[target]
    candidates: list[Candidate] = []
    notes: list[str] = []
    redactor = Redactor.for_state_dir(loaded.state_dir())
    for m in manifest or []:
        candidates += _manifest_candidates(loaded, target, m, redactor, notes)
    if images is not None:
        text = sys.stdin.read() if images == "-" else _read(Path(images))
        candidates += images_from_lines(text, "stdin" if images == "-" else images, ph)
    for p in plan or []:
        candidates += read_plan_file(p, ph, notes)
    store = open_store(loaded)
    try:
        if not store.environment_scans(previous):
            raise UsageError(f"{previous} was never scanned: nothing is known to have run there (run `parity scan`)")
        ledger = ledger_for(loaded.config, store, environments=[previous])
        result = check(ledger, target, previous, candidates, store.findings(environment=previous), cap_notes(notes, 50))
    finally:
        store.close()
    if fmt is Format.json:
        rendered = orjson.dumps(_document(result, strict), option=orjson.OPT_INDENT_2).decode() + "\n"
    elif fmt is Format.markdown:
        rendered = _markdown(result)
    else:
        rendered = _table(result)
    write_out(rendered, output)
    raise typer.Exit(result.exit_code(strict))


def _read(path: Path) -> str:
    from parity.sources import files

    return files.read_text(path, str(path))
