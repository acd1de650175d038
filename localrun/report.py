"""What ``local`` tells the user while it works: the one place that writes its stderr lines.

WHY one reporter object: every message has the same shape, like cargo's or docker compose's,
so a script (or a test) can read it and a person can skim it:

* ``local: <what> ...`` when a step starts, ``local: <what was done> in 4.1 s`` when it ends;
* ``local:   still <doing> (step 7/12, 45 s)`` when a step has printed nothing for
  :data:`HEARTBEAT_SECONDS` (the image's venv step is silent for a minute or more);
* ``local:   <detail>`` only with ``--verbose`` (the image build's log, each ignored setting);
* ``local: error: <cause in words>`` last, when it did not work.

Plain lines only, whether stderr is a terminal or not: no carriage-return spinner, so a log
file, CI and the tests read the same text a person sees, and a line that another part writes
to stderr (the synth's ``note:`` lines, the engine set-up) never lands inside a spinner's.
stdout stays the command's result (``--json`` keeps it pure JSON).

The reporter is callable with one message, as the plain ``say`` it replaced, so code that only
announces things (``engine.connect(say)``) needs nothing else.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

PREFIX = "local:"
DETAIL_INDENT = "  "
#: A step that prints nothing for this long gets a ``still ...`` line (and again after as long).
HEARTBEAT_SECONDS = 15.0


def elapsed(seconds: float) -> str:
    """``4.1 s`` under a minute, ``95 s`` above: precise when short, calm when long."""
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds:.0f} s"


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 container``, ``4 containers`` (``words`` for an irregular plural)."""
    return f"{count} {word if count == 1 else words or word + 's'}"


class Step:
    """A step in progress: what it is doing, its progress for the heartbeat, its end line."""

    def __init__(self, doing: str, still: str) -> None:
        self.doing = doing
        self.still = still
        #: Shown in the heartbeat, e.g. ``step 7/12``; set by the code doing the work.
        self.status = ""
        self.done_message: str | None = None
        self.started = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def done(self, message: str) -> None:
        """The line printed (with the elapsed time) when the step ends without an error."""
        self.done_message = message


class Reporter:
    """Writes the ``local:`` lines to ``stream`` (stderr by default); thread-safe."""

    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        if not heartbeat_seconds > 0:
            raise ValueError(f"heartbeat_seconds={heartbeat_seconds!r}: a positive number of seconds")
        self._stream = stream
        self.verbose = verbose
        self.heartbeat_seconds = heartbeat_seconds
        self._lock = threading.RLock()
        self._last_output = time.monotonic()
        self._steps: list[Step] = []

    # -- lines ----------------------------------------------------------------------------
    def _write(self, line: str) -> None:
        with self._lock:
            stream = self._stream if self._stream is not None else sys.stderr
            print(line, file=stream, flush=True)
            self._last_output = time.monotonic()

    def say(self, message: str) -> None:
        """A line of its own: ``local: <message>``."""
        self._write(f"{PREFIX} {message}")

    __call__ = say

    def detail(self, message: str) -> None:
        """An indented line shown with --verbose only."""
        if self.verbose:
            self._write(f"{PREFIX} {DETAIL_INDENT}{message}")

    def error(self, message: str) -> None:
        self._write(f"{PREFIX} error: {message}")

    # -- steps ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def step(self, doing: str, *, still: str, done: str | None = None) -> Iterator[Step]:
        """``local: <doing> ...`` now, ``local: <done> in N s`` at the end (unless it raises),
        and ``local:   still <still> (<status>, N s)`` whenever the step is silent for
        ``heartbeat_seconds``. ``done`` (or ``Step.done()`` inside) defaults to ``doing``."""
        step = Step(doing, still)
        step.done_message = done
        self.say(f"{doing} ...")
        with self._lock:
            self._steps.append(step)
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(step, stop), name="local-heartbeat", daemon=True)
        beat.start()
        try:
            yield step
        finally:
            stop.set()
            beat.join()
            with self._lock:
                self._steps.remove(step)
        self.say(f"{step.done_message or doing} in {elapsed(step.seconds)}")

    def _heartbeat(self, step: Step, stop: threading.Event) -> None:
        while True:
            with self._lock:
                due = self._last_output + self.heartbeat_seconds
            if stop.wait(timeout=max(due - time.monotonic(), 0.01)):
                return
            with self._lock:
                silent = time.monotonic() - self._last_output >= self.heartbeat_seconds
                if silent and self._steps and self._steps[-1] is step:  # only the innermost step beats
                    progress = f"{step.status}, " if step.status else ""
                    self._write(f"{PREFIX} {DETAIL_INDENT}still {step.still} ({progress}{step.seconds:.0f} s)")


# -- failures in words ------------------------------------------------------------------------
def _os_reason(error: BaseException) -> str | None:
    """The operating system's reason somewhere in an exception's chain or arguments
    (``connection refused``), as requests and urllib3 wrap it several levels deep."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        item = pending.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, OSError) and item.strerror:
            return item.strerror[0].lower() + item.strerror[1:]
        pending.extend(item.args)
        pending.extend(e for e in (item.__cause__, item.__context__, getattr(item, "reason", None)) if e is not None)
    return None


def os_error_words(error: OSError) -> str:
    """An operating-system error in words, without its class, number or file name:
    ``no space left on device``, ``read-only file system``, ``permission denied``."""
    reason = error.strerror or (os.strerror(error.errno) if error.errno else None) or str(error) or type(error).__name__
    return reason[0].lower() + reason[1:]


def engine_failure(error: BaseException) -> str | None:
    """The words for a failure of the engine's API that escaped the code talking to it (the
    engine stopped or refused a request half-way), or None when ``error`` is none of those."""
    requests = sys.modules.get("requests")
    docker_errors = sys.modules.get("docker.errors")
    if docker_errors is not None and isinstance(error, docker_errors.APIError):
        explanation = error.explanation or (error.response.reason if error.response is not None else None)
        return f"the container engine refused a request: {explanation or 'no reason given'}"
    if requests is not None and isinstance(error, requests.exceptions.Timeout):
        return "the container engine stopped answering (a request timed out); is it overloaded or stopped?"
    if requests is not None and isinstance(error, requests.exceptions.ConnectionError):
        reason = _os_reason(error)
        return f"lost the connection to the container engine{f' ({reason})' if reason else ''}; did it stop?"
    if docker_errors is not None and isinstance(error, docker_errors.DockerException):
        return f"the container engine failed: {_os_reason(error) or error}"
    return None
