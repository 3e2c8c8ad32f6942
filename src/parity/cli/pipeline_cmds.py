"""``parity pipeline``: the promotion graph of every repository read by a ``pipeline`` source."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from parity.cli.common import (
    DEFAULT_CONFIG_PATH,
    ConfigOpt,
    OutputOpt,
    ProgressOpt,
    StrictOpt,
    err_console,
    load,
    progress_display,
    redactor_for,
    write_out,
)
from parity.pipeline import collect
from parity.pipelines import promotion_graph
from parity.pipelines.graph import workflows_of
from parity.pipelines.graphview import PromotionGraph, render_mermaid, render_text, to_json
from parity.report import EXIT_DRIFT, EXIT_INCOMPLETE, EXIT_OK
from parity.sources.pipeline.collector import KIND


class GraphFormat(StrEnum):
    text = "text"
    mermaid = "mermaid"
    json = "json"


def pipeline(
    config: ConfigOpt = DEFAULT_CONFIG_PATH,
    fmt: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="text, mermaid (flowchart) or json.", case_sensitive=False)
    ] = GraphFormat.text,
    output: OutputOpt = None,
    strict: StrictOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Print the promotion graph: which job deploys to which environment, and through what (needs,
    stage order, workflow_run, triggers). Paths that skip a stage of `promotion` (and production
    deploys from a branch other than the default) are marked.

    Something the pipeline sources could not read (a GitLab remote, project, template or component
    include) is a coverage gap: listed in the output, and with --strict exit 3 when no bypass was found.

    Exit codes: 0 no path skips a stage, 2 a bypass exists, 1 error, 3 coverage incomplete (with --strict).

    Example: parity pipeline --format mermaid -o promotion.mmd
    """
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
    if graph.has_bypass:
        return EXIT_DRIFT
    if strict and not graph.complete:
        return EXIT_INCOMPLETE
    return EXIT_OK
