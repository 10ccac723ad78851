"""Exit codes (docs/REPORT.md) and the one-line failure: 0 success, 1 a ci rule failed, 2
unusable input or a wrong command line, always with one line on stderr and never a
traceback. Apart from common.py, so that the `layerscope` command can say them before it
imports what the command it runs needs.
"""

from __future__ import annotations

import os
import sys

EXIT_OK = 0
EXIT_RULE_FAILED = 1
EXIT_UNUSABLE = 2


def discard_stdout() -> None:
    """After the reader of a pipe left (`| head`): what is still buffered goes nowhere,
    instead of failing again, with a message, when Python exits."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def fail(message: str, code: int) -> int:
    """One line on stderr, whatever the message holds."""
    sys.stderr.write("layerscope: " + " ".join(message.split()) + "\n")
    return code
