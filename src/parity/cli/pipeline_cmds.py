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
    load,
    progress_display,
    redactor_for,
    write_out,
)
from parity.pipeline import collect
from parity.pipelines import promotion_graph
from parity.pipelines.graph import workflows_of
from parity.pipelines.graphview import render_mermaid, render_text, to_json


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
    progress: ProgressOpt = True,
) -> None:
    """Print the promotion graph: which job deploys to which environment, and through what (needs,
    stage order, workflow_run, triggers). Paths that skip a stage of `promotion` (and production
    deploys from a branch other than the default) are marked.

    Exit codes: 0 no path skips a stage, 2 a bypass exists, 1 error.

    Example: parity pipeline --format mermaid -o promotion.mmd
    """
    loaded = load(config)
    cfg = loaded.config
    with progress_display(progress) as cb:
        inventories = collect(loaded, list(cfg.environments), redactor_for(loaded), cb)
    snaps = [s for inv in inventories.values() for s in inv.snapshots]
    graph = promotion_graph(workflows_of(snaps), cfg.promotion or list(cfg.environments))
    if fmt is GraphFormat.json:
        text = json.dumps(to_json(graph), indent=2) + "\n"
    elif fmt is GraphFormat.mermaid:
        text = render_mermaid(graph)
    else:
        text = render_text(graph)
    write_out(text, output, "graph")
    raise typer.Exit(2 if graph.has_bypass else 0)
