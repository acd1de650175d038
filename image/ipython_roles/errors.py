"""The one error type a bad configuration raises, rendered as the one line operators read.

Every check of the environment raises :class:`ConfigError`; the command line prints
``str(error)`` on stderr and exits with status 2 before anything is started or written. The
rendering is fixed, ``error: IPYTHON_X=<value>: <what is allowed>``, so that a log search for
the variable's name finds the cause. Secret variables never show their value (``<hidden>``);
an unset variable shows ``<unset>``; control characters are escaped so the message stays on one
line whatever the value holds.
"""

from __future__ import annotations

UNSET = "<unset>"
HIDDEN = "<hidden>"


def _printable(value: str) -> str:
    """The value with control characters escaped: a newline in a value must not split the line."""
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in value)


class ConfigError(ValueError):
    """A configuration value (environment variable or argument) that cannot be used."""

    def __init__(self, variable: str, value: str | None, allowed: str, *, secret: bool = False):
        self.variable = variable
        self.value = value
        self.allowed = allowed
        self.secret = secret
        super().__init__(str(self))

    @property
    def shown_value(self) -> str:
        if self.value is None:
            return UNSET
        if self.secret:
            return HIDDEN
        return _printable(self.value)

    def __str__(self) -> str:
        return f"error: {self.variable}={self.shown_value}: {self.allowed}"
