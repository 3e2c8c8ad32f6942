"""Collecting big environments in parallel processes, for a command on a machine with several cores.

Reading and canonicalising a big Terraform state is Python work on one core. With two or more
environments, each big one beyond the first is collected in a forked child process while this process
collects the others; the child sends its canonical inventory back, pickled, through a pipe. Measured
with `bench/run command` (docs/benchmarks.md).

Which environments go to a child: those whose sources are all files (a live ``aws`` source runs thread
pools that a fork must not copy mid-flight) and whose Terraform state and plan files add up to at least
:data:`PARALLEL_MIN_BYTES` (below that, a process and the trip back cost more than they save). At most
``PARITY_JOBS`` processes in all (default: the cores this process may use); ``PARITY_JOBS=1`` collects
everything here. A long-running caller with a memo (``parity watch``) always collects here: its memo
lives in this process.

A child ignores Ctrl-C (this process answers it and stops the children); an input error in a child is
the same one-line error as here; a child that dies (killed, out of memory) is an error naming the
environment.
"""

from __future__ import annotations

import dataclasses
import marshal
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from parity.errors import ParityError
from parity.gcpause import paused_gc
from parity.model import Location, Resource, Snapshot

if TYPE_CHECKING:
    from parity.compare import Inventory
    from parity.config import LoadedConfig

PARALLEL_MIN_BYTES = 16 * 1024 * 1024
_FILE_KINDS = frozenset({"terraform-state", "terraform-plan", "kubernetes-manifests", "config", "pipeline"})
_SIZED = {"terraform-state": (".tfstate",), "terraform-plan": (".json",)}


def jobs() -> int:
    """How many processes a collection may use: ``PARITY_JOBS``, else the cores this process may run on."""
    raw = os.environ.get("PARITY_JOBS", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ParityError(f"PARITY_JOBS={raw!r}: expected a number of processes, 1 or more (1: no child processes)")
        return int(raw)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _declared_bytes(loaded: LoadedConfig, env: str, only_kinds: frozenset[str] | None) -> int | None:
    """The bytes of ``env``'s Terraform state and plan files; None when a source is not files only."""
    from parity.sources import files

    total = 0
    for src in loaded.config.environments[env].sources:
        if only_kinds is not None and src.kind not in only_kinds:
            continue
        if src.kind not in _FILE_KINDS:
            return None
        suffixes = _SIZED.get(src.kind)
        if suffixes is None:
            continue
        try:
            found = files.expand(loaded.base_dir, getattr(src, "path", ()), suffixes)
        except ParityError:
            return None  # collected here, where the error is raised as usual
        for path, _root in found:
            try:
                total += path.stat().st_size
            except OSError:
                return None
    return total


def plan(loaded: LoadedConfig, envs: Sequence[str], only_kinds: frozenset[str] | None = None) -> list[str]:
    """The environments of ``envs`` to collect in child processes (see the module docstring); empty when
    everything is better collected here."""
    n = jobs()
    if n < 2 or len(envs) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return []
    sizes = {e: _declared_bytes(loaded, e, only_kinds) for e in envs}
    big = [e for e in envs if (n_bytes := sizes[e]) is not None and n_bytes >= PARALLEL_MIN_BYTES]
    here = [e for e in envs if e not in big]
    if not here:  # this process takes the biggest itself rather than wait idle
        here = [max(big, key=lambda e: sizes[e] or 0)]
        big = [e for e in big if e not in here]
    return big[: n - 1]


Collect = Callable[[str], "Inventory"]


def _child(collect: Collect, env: str, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is answered by the parent, which stops us
    try:
        head, body = _pack(collect(env))
    except BaseException as e:  # sent back whole: the parent raises it as if collected there
        try:
            head = pickle.dumps(("error", e), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            head = pickle.dumps(("error", ParityError(f"collecting {env}: {type(e).__name__}: {e}")))
        body = b""
    conn.send_bytes(head)
    conn.send_bytes(body)
    conn.close()


# An inventory's trip back: the snapshots' headers pickled, the resources' fields as plain tuples through
# marshal, which writes dicts, lists and scalars faithfully (a tuple stays a tuple) and several times
# faster than pickle (75,000 resources: 0.3 s + 0.2 s against 1.9 s + 0.5 s, whose memo of every object
# is the cost). A value marshal cannot write (no file source makes one today) sends that inventory by pickle.
def _pack(inv: Inventory) -> tuple[bytes, bytes]:
    heads = [dataclasses.replace(s, resources=()) for s in inv.snapshots]
    try:
        body = marshal.dumps(
            [
                [
                    (r.type, r.id, r.key, r.attributes, r.tags, r.origin, r.owner, r.name, r.address,
                     None if r.location is None else (r.location.file, r.location.line))
                    for r in s.resources
                ]
                for s in inv.snapshots
            ]
        )  # fmt: skip
        how = "marshal"
    except ValueError:
        body = pickle.dumps([s.resources for s in inv.snapshots], protocol=pickle.HIGHEST_PROTOCOL)
        how = "pickle"
    return pickle.dumps(("ok", (inv.environment, heads, how)), protocol=pickle.HIGHEST_PROTOCOL), body


def _unpack(packed: tuple[str, list[Snapshot], str], body: bytes) -> Inventory:
    from parity.compare import Inventory

    env, heads, how = packed
    if how == "pickle":
        groups = pickle.loads(body)
    else:
        groups = [
            tuple(
                Resource(t, i, k, a, tags, origin, owner, name, address, None if loc is None else Location(*loc))
                for t, i, k, a, tags, origin, owner, name, address, loc in rows
            )
            for rows in marshal.loads(body)
        ]
    return Inventory(env, tuple(dataclasses.replace(h, resources=tuple(g)) for h, g in zip(heads, groups, strict=True)))


def collect_in_processes(
    envs: Sequence[str], away: Sequence[str], collect: Collect, progress: Callable[[str], None] | None = None
) -> dict[str, Inventory]:
    """``collect(env)`` for every environment of ``envs``: those of ``away`` each in a forked child, the
    others here meanwhile; in the order of ``envs``."""
    ctx = multiprocessing.get_context("fork")
    children: dict[str, tuple[multiprocessing.process.BaseProcess, Connection]] = {}
    out: dict[str, Inventory] = {}
    try:
        for env in away:
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(collect, env, send), name=f"parity-collect-{env}", daemon=True)
            proc.start()
            send.close()  # the child's end: closed here, so a child that dies is seen as end of file
            children[env] = (proc, receive)
            if progress:
                progress(f"{env}: collecting in a second process")
        for env in envs:
            if env not in children:
                out[env] = collect(env)
        for env, (child, receive) in children.items():
            if progress:
                progress(f"{env}: waiting for its process")
            try:
                head = receive.recv_bytes()  # before join: a child blocks until its pipe is read
                body = receive.recv_bytes()
            except EOFError:
                child.join()
                raise ParityError(
                    f"collecting {env}: its process ended without an answer (exit code {child.exitcode}; "
                    "out of memory?); PARITY_JOBS=1 collects every environment in one process"
                ) from None
            status, value = pickle.loads(head)
            if status == "error":
                raise value
            with paused_gc():  # millions of fresh objects, alive until the command ends
                out[env] = _unpack(value, body)
            del body
            child.join()
    finally:
        for child, receive in children.values():
            receive.close()
            if child.is_alive():
                child.terminate()
                child.join()
    return {env: out[env] for env in envs}
