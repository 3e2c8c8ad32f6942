"""``parity pipeline``: the promotion graph of every repository read by a ``pipeline`` source."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from parity.cli.common import (
    DEFAULT_CONFIG_PATH,
    ConfigOpt,
    ProgressOpt,
    err_console,
    load,
    progress_display,
    redactor_for,
    write_out,
)

# The pipeline readers and the graph are imported where they are used: this module's top level is loaded
# for every command (see parity.cli.common).
if TYPE_CHECKING:
    from parity.pipelines.graphview import PromotionGraph


class GraphFormat(StrEnum):
    text = "text"
    mermaid = "mermaid"
    json = "json"


def pipeline(
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    fmt: Annotated[
        GraphFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output format: text, mermaid (a flowchart) or json (parity/pipeline-graph@1).",
            case_sensitive=False,
        ),
    ] = GraphFormat.text,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the graph to this file (its folder is created) instead of standard output.",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Exit 3 when no path skips a stage but a pipeline source could not be read whole."
        ),
    ] = False,
    progress: ProgressOpt = True,
) -> None:
    """Show the CI deploy graph and paths that skip a stage.

    Which job deploys to which environment, and through what (needs, stage order, workflow_run,
    triggers), read from the `pipeline` sources of parity.yaml. Paths that skip a stage of `promotion`
    (and production deploys from a branch other than the default) are marked.

    Something the pipeline sources could not read (a GitLab remote, project, template or component
    include) is a coverage gap: listed in the output, and with --strict exit 3 when no bypass was found.

    Exit codes: 0 no path skips a stage, 2 a bypass exists, 1 error, 3 coverage incomplete (with --strict).

    \b
    Examples:
      parity pipeline
      parity pipeline --format mermaid -o promotion.mmd
      parity pipeline --strict --format json
    """
    from parity.pipeline import collect
    from parity.pipelines import promotion_graph
    from parity.pipelines.graph import workflows_of
    from parity.pipelines.graphview import render_mermaid, render_text, to_json
    from parity.sources.pipeline.collector import KIND

    loaded = load(config)
    cfg = loaded.config
    with progress_display(progress) as cb:
        # only the pipeline sources: the graph needs nothing else, and reading AWS accounts or every
        # state here would cost minutes (and credentials) for nothing
        inventories = collect(loaded, list(cfg.environments), redactor_for(loaded), cb, only_kinds=frozenset({KIND}))
    snaps = [s for inv in inventories.values() for s in inv.snapshots]
    gaps = [g for s in snaps if s.kind == KIND for g in s.coverage.gaps]
    graph = promotion_graph(workflows_of(snaps), cfg.promotion or list(cfg.environments), gaps)
    if fmt is GraphFormat.json:
        text = json.dumps(to_json(graph), indent=2) + "\n"
    elif fmt is GraphFormat.mermaid:
        text = render_mermaid(graph)
    else:
        text = render_text(graph)
    write_out(text, output, "graph")
    if graph.gaps and (output is not None or fmt is not GraphFormat.text):
        err_console.print(
            f"coverage incomplete: {len(graph.gaps)} gap(s) in the pipeline sources (listed in the graph)",
            highlight=False,
            markup=False,
        )
    raise typer.Exit(exit_code(graph, strict))


def exit_code(graph: PromotionGraph, strict: bool) -> int:
    """2 when a path skips a stage; else, with ``strict``, 3 when a pipeline source could not read
    everything (the contract of every reporting command: a gap never reads as "no bypass"); else 0."""
    from parity.report import EXIT_DRIFT, EXIT_INCOMPLETE, EXIT_OK

    if graph.has_bypass:
        return EXIT_DRIFT
    if strict and not graph.complete:
        return EXIT_INCOMPLETE
    return EXIT_OK
