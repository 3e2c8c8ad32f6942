"""The ``parity`` command (and ``python -m parity``). Nothing is imported before the interrupt guard is in place:
loading the CLI takes about a tenth of a second (each command imports the rest when it runs), and Ctrl-C in
it must be one line too, not a traceback."""

from __future__ import annotations

import sys


def entry() -> None:
    try:
        from parity.gcpause import freeze_after_pauses

        freeze_after_pauses()  # a one-shot process; `parity watch` turns it off again
        from parity.cli import main

        code = main()
    except KeyboardInterrupt:  # while loading, or after main() returned (its own Ctrl-C is handled inside)
        sys.stderr.write("parity: interrupted\n")
        raise SystemExit(130) from None
    sys.exit(code)


if __name__ == "__main__":
    entry()
