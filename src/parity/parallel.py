"""Collecting big environments in parallel processes, for a command on a machine with several cores.

Reading and canonicalising a big Terraform state is Python work on one core. With two or more
environments, each big one beyond the first is collected in a forked child process while this process
collects the others; the child sends its canonical inventory back, pickled, through a pipe. Measured
with `bench/run command` (docs/benchmarks.md).

Which environments go to a child: those whose sources are all files (a live ``aws`` source runs thread
pools that a fork must not copy mid-flight) and whose Terraform state and plan files add up to at least
:data:`PARALLEL_MIN_BYTES` (below that, a process and the trip back cost more than they save). At most
``PARITY_JOBS`` processes in all (default: the cores this process may use); ``PARITY_JOBS=1`` collects
everything here. A long-running caller (``parity watch``: threads of its own, memos that live in this
process) always collects here (``pipeline.collect(..., processes=False)``).

A child lets Ctrl-C pass (this process answers it and stops the children), though not to what it runs
(``kubectl kustomize``), which stops as without children. A parity error in a child is the same error as
here; an answer that cannot come back (an unexpected exception, a value pickle cannot write)
is collected again here, where it fails or succeeds exactly as without children; a child that dies
(killed, out of memory) is an error naming the environment.
"""

from __future__ import annotations

import dataclasses
import marshal
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from contextlib import suppress
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


def jobs() -> int:
    """How many processes a collection may use: ``PARITY_JOBS``, else the cores this process may run on."""
    raw = os.environ.get("PARITY_JOBS", "").strip()
    if raw:
        # ASCII digits only: str.isdigit() also accepts "²", which int() rejects, as it rejects 5,000 digits
        n = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else 0
        if n < 1:
            raise ParityError(f"PARITY_JOBS={raw!r}: expected a number of processes, 1 or more (1: no child processes)")
        return n
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _declared_bytes(loaded: LoadedConfig, env: str, only_kinds: frozenset[str] | None) -> int | None:
    """The bytes of ``env``'s Terraform state and plan files; None when a source is not files only."""
    from parity.sources import files
    from parity.sources.terraform import plan as tf_plan
    from parity.sources.terraform import state as tf_state

    sized = {tf_state.KIND: tf_state.SUFFIXES, tf_plan.KIND: tf_plan.SUFFIXES}  # the files those sources read
    total = 0
    for src in loaded.config.environments[env].sources:
        if only_kinds is not None and src.kind not in only_kinds:
            continue
        if src.kind not in _FILE_KINDS:
            return None
        suffixes = sized.get(src.kind)
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
    envs = list(dict.fromkeys(envs))  # one child per environment, however often it is named
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

# The answer of a child whose inventory or exception cannot come back (see _answer): this process collects
# that environment itself.
_HERE = ("here", None)


def _ctrl_c_here(signum: int, frame: object) -> None:
    """A child's Ctrl-C: nothing (the parent answers it, and stops the child)."""


def _child(collect: Collect, env: str, conn: Connection) -> None:
    # Ctrl-C does nothing here: the parent answers it, and stops us. A handler that does nothing rather than
    # SIG_IGN, which the programs we run would inherit: a `kubectl kustomize` that ignored the terminal's
    # Ctrl-C would outlive this process. SIGTERM, how the parent stops us, kills quietly even if the parent
    # had a handler for it. SIGINT was blocked across the fork: one pressed before this point is pending,
    # and reaches the handler here (before it, a KeyboardInterrupt could print a traceback).
    signal.signal(signal.SIGINT, _ctrl_c_here)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        head, body = _answer(collect, env)
    except BaseException:  # e.g. MemoryError while packing
        head, body = pickle.dumps(_HERE), b""
    try:
        conn.send_bytes(head)
        conn.send_bytes(body)
        conn.close()
    except OSError:  # this process stopped listening (an error there, Ctrl-C): nobody to tell
        pass
    # Ended here, not by returning through multiprocessing, which flushes the standard streams: this copy's
    # buffers hold the parent's unwritten output (written twice), and another thread of the parent may have
    # held their locks at the fork.
    os._exit(0)


def _answer(collect: Collect, env: str) -> tuple[bytes, bytes]:
    """What the child sends back: its inventory packed, a parity error, or :data:`_HERE`."""
    try:
        inv = collect(env)
    except ParityError as e:
        # Sent when it comes back as the same error: one whose class cannot be pickled, or is rebuilt
        # differently from its args (an __init__ that formats them), would reach the user as another error.
        with suppress(Exception):  # any failure to make the trip: _HERE
            head = pickle.dumps(("error", e), protocol=pickle.HIGHEST_PROTOCOL)
            back = pickle.loads(head)[1]
            if type(back) is type(e) and str(back) == str(e):
                return head, b""
        return pickle.dumps(_HERE), b""
    except BaseException:
        # Unexpected (a bug): collected again in the parent, it fails there with its own traceback
        # (PARITY_DEBUG=1) and parity's usual "internal error" line, whatever the exception's class.
        return pickle.dumps(_HERE), b""
    try:
        return _pack(inv)
    except Exception:  # a value pickle cannot write either (a mappingproxy), nesting too deep for it
        return pickle.dumps(_HERE), b""


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


def _stop(child: multiprocessing.process.BaseProcess) -> None:
    """Stop ``child`` (SIGTERM, then SIGKILL after 5 s: a stopped or stuck child never hangs this process)."""
    child.terminate()
    child.join(5)
    if child.exitcode is None:
        child.kill()
        child.join()


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        with suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def collect_in_processes(
    envs: Sequence[str], away: Sequence[str], collect: Collect, progress: Callable[[str], None] | None = None
) -> dict[str, Inventory]:
    """``collect(env)`` for every environment of ``envs``: those of ``away`` each in a forked child, the
    others here meanwhile; in the order of ``envs``."""
    ctx = multiprocessing.get_context("fork")
    children: dict[str, tuple[multiprocessing.process.BaseProcess, Connection]] = {}
    waited: set[str] = set()
    out: dict[str, Inventory] = {}
    try:
        for env in dict.fromkeys(e for e in away if e in envs):  # one child per environment
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(collect, env, send), name=f"parity-collect-{env}", daemon=True)
            # Ctrl-C held back from the fork until the child is known here (and stopped by the finally below):
            # the child starts with it blocked, and drops one pressed meanwhile (see _child).
            held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                try:
                    proc.start()
                except OSError:  # no process to be had (a limit on processes, memory): collected here
                    receive.close()
                    continue
                finally:
                    send.close()  # the child's end: closed here, so a child that dies is seen as end of file
                children[env] = (proc, receive)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            if progress:
                progress(f"{env}: collecting in a second process")
        for env in dict.fromkeys(envs):
            if env not in children:
                out[env] = collect(env)
        for env, (child, receive) in children.items():
            if progress:
                progress(f"{env}: waiting for its process")
            try:
                head = receive.recv_bytes()  # before join: a child blocks until its pipe is read
                body = receive.recv_bytes()
            except (EOFError, OSError):  # OSError: ended in the middle of its answer
                child.join()
                waited.add(env)
                raise ParityError(
                    f"collecting {env}: its process ended without an answer ({_ended(child.exitcode)}; "
                    "out of memory?); PARITY_JOBS=1 collects every environment in one process"
                ) from None
            child.join()
            waited.add(env)
            try:
                status, value = pickle.loads(head)
                if status == "ok":
                    with paused_gc():  # millions of fresh objects, alive until the command ends
                        out[env] = _unpack(value, body)
            except Exception:  # e.g. a class the child made after the fork: collected here instead
                status = "here"
            del body
            if status == "error":
                raise value
            if status == "here":
                if progress:
                    progress(f"{env}: its process could not send it back: collecting it here")
                out[env] = collect(env)
    finally:
        for env, (child, receive) in children.items():
            if env not in waited:
                _stop(child)  # before closing its pipe: a child stopped by a signal writes nothing
            receive.close()
    return {env: out[env] for env in envs}
