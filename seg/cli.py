"""What every script under ``scripts/`` shares: its parser and how it ends.

A script's ``main(argv)`` parses its arguments with :func:`parser` (which adds ``--debug``) and
calls the package; :func:`run` runs it so that a :class:`~seg.errors.SegError` (a mistake the user
can fix: a missing run dir, an unreadable graph, a bad value) prints ``error: <message>`` on stderr
and exits with status 1 instead of a traceback. Any other exception is a bug and keeps its
traceback; ``--debug`` (or ``SEG_DEBUG=1``) shows the traceback of a user error too.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any

from seg.errors import UserInputError, user_error

DEBUG_FLAG = "--debug"


def parser(doc: str | None, **kwargs: Any) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` described by the first paragraph of ``doc`` (the script's docstring),
    with ``--debug``."""
    description = (doc or "").split("\n\n")[0]
    out = argparse.ArgumentParser(description=description, **kwargs)
    out.add_argument(
        DEBUG_FLAG, action="store_true", help="show the traceback of errors too (SEG_DEBUG=1)"
    )
    return out


def arg_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` as an argparse ``type=``: its :class:`~seg.errors.UserInputError` becomes
    argparse's own message for the argument (exit status 2 with the usage line)."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except UserInputError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    return convert


def command_line(script: str, argv: Sequence[str]) -> str:
    """``python scripts/<script> <argv>``, quoted for a shell (recorded in reports)."""
    return shlex.join(["python", f"scripts/{script}", *argv])


def run(main: Callable[[list[str]], Any], argv: Sequence[str] | None = None) -> int:
    """Run a script's ``main`` and return its exit status (for ``sys.exit``).

    Args:
        main: Takes the argument list; returns an ``int`` exit status, or anything else for 0.
        argv: The arguments (default: ``sys.argv[1:]``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    debug = DEBUG_FLAG in args or os.environ.get("SEG_DEBUG") == "1"
    try:
        result = main(args)
    except Exception as err:
        mistake = user_error(err)
        if mistake is None or debug:
            raise
        print(f"error: {mistake}", file=sys.stderr, flush=True)
        return 1
    return result if isinstance(result, int) and not isinstance(result, bool) else 0
