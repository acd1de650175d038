"""The two kinds of failure of the local runner, told apart by their exit status.

WHY two: a script calling ``local up`` must distinguish "you asked for something that cannot
be" (bad CLI input or a bad stack parameter: exit 2, nothing was created) from "it was right
but did not work here" (the engine, the image, a container that never became ready: exit 1).
"""

from __future__ import annotations


class LocalRunError(RuntimeError):
    """A failure while running the stacks; ``str()`` is the one-line message for the user."""

    exit_status = 1


class UsageError(LocalRunError):
    """Bad input on the command line or in the parameters; nothing was created."""

    exit_status = 2
