"""The reporter of `local` (localrun/report.py): a step's start and end lines with its elapsed
time, a heartbeat only while the user sees nothing, and engine failures in words.

The heartbeat is tested on real slow work (a silent child process, a function that keeps
talking) with a short interval instead of 15 s; nothing here sleeps inside the product code.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import time

import docker
import docker.errors
import pytest
import requests

from localrun.report import Reporter, elapsed, engine_failure, plural

INTERVAL = 0.2


class Lines(io.TextIOBase):
    """A stream that keeps each line with the time it was written."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._partial += text
            *complete, self._partial = self._partial.split("\n")
            self.lines.extend((time.monotonic(), line) for line in complete)
        return len(text)

    def text(self) -> list[str]:
        return [line for _, line in self.lines]


def heartbeats(stream: Lines) -> list[tuple[float, str]]:
    return [(at, line) for at, line in stream.lines if line.startswith("local:   still ")]


def test_a_silent_child_process_gets_a_heartbeat_per_interval_naming_the_step_and_its_progress():
    stream = Lines()
    reporter = Reporter(stream, heartbeat_seconds=INTERVAL)
    with reporter.step("running a silent child", still="running the child", done="ran the child") as step:
        step.status = "part 1/2"
        subprocess.run([sys.executable, "-c", "import time; time.sleep(1.5)"], check=True)
    lines = stream.text()
    assert lines[0] == "local: running a silent child ..."
    end = re.fullmatch(r"local: ran the child in ([0-9.]+) s", lines[-1])
    assert end and float(end.group(1)) >= 1.5, lines
    beats = heartbeats(stream)
    assert lines[1:-1] == [line for _, line in beats]
    assert 4 <= len(beats) <= float(end.group(1)) / INTERVAL, lines  # 7 on an idle machine
    for _, line in beats:
        assert re.fullmatch(r"local:   still running the child \(part 1/2, [0-9] s\)", line), line
    times = [stream.lines[0][0]] + [at for at, _ in beats]
    assert min(b - a for a, b in zip(times, times[1:])) >= INTERVAL * 0.9  # at most one per interval of silence


def test_a_step_that_keeps_talking_gets_no_heartbeat_but_the_same_step_shown_quietly_does():
    def slow_work(reporter: Reporter) -> None:
        for number in range(15):
            reporter.detail(f"log line {number}")
            time.sleep(INTERVAL / 4)

    talking, quiet = Lines(), Lines()
    for stream, verbose in ((talking, True), (quiet, False)):
        reporter = Reporter(stream, verbose=verbose, heartbeat_seconds=INTERVAL)
        with reporter.step("working", still="working"):
            slow_work(reporter)
    assert heartbeats(talking) == []
    assert len([line for line in talking.text() if line.startswith("local:   log line")]) == 15
    assert len(heartbeats(quiet)) >= 2  # the details are hidden: the user sees silence
    assert not [line for line in quiet.text() if "log line" in line]


def test_a_failing_step_prints_no_end_line_and_its_heartbeat_stops():
    stream = Lines()
    reporter = Reporter(stream, heartbeat_seconds=INTERVAL)
    with pytest.raises(subprocess.CalledProcessError):
        with reporter.step("running a failing child", still="running"):
            subprocess.run([sys.executable, "-c", "import sys; sys.exit(3)"], check=True)
    time.sleep(INTERVAL * 3)
    assert stream.text() == ["local: running a failing child ..."]
    assert not [t for t in threading.enumerate() if t.name == "local-heartbeat"]


def test_only_the_innermost_step_beats():
    stream = Lines()
    reporter = Reporter(stream, heartbeat_seconds=INTERVAL)
    with reporter.step("outer", still="doing the outer step"):
        with reporter.step("inner", still="doing the inner step"):
            subprocess.run([sys.executable, "-c", "import time; time.sleep(0.7)"], check=True)
    beats = [line for _, line in heartbeats(stream)]
    assert beats and all("inner" in line for line in beats), stream.text()


def test_lines_have_one_shape():
    stream = Lines()
    reporter = Reporter(stream)
    reporter("a step of its own")
    reporter.detail("hidden without --verbose")
    reporter.error("it did not work")
    reporter.verbose = True
    reporter.detail("shown with --verbose")
    assert stream.text() == ["local: a step of its own", "local: error: it did not work", "local:   shown with --verbose"]
    assert (elapsed(4.123), elapsed(59.94), elapsed(95.4)) == ("4.1 s", "59.9 s", "95 s")
    assert (plural(1, "pod"), plural(4, "pod"), plural(0, "pod")) == ("1 pod", "4 pods", "0 pods")
    with pytest.raises(ValueError, match="heartbeat_seconds=0"):
        Reporter(stream, heartbeat_seconds=0)


def test_an_engine_that_is_gone_is_said_in_words_not_as_an_exception(tmp_path):
    client = docker.DockerClient(base_url=f"unix://{tmp_path}/gone.sock", version="1.41")
    with pytest.raises(requests.ConnectionError) as raised:
        client.containers.list()
    assert engine_failure(raised.value) == "lost the connection to the container engine (no such file or directory); did it stop?"
    assert engine_failure(ValueError("a bug")) is None


def test_a_request_the_engine_refuses_is_said_with_the_engines_words(engine_client):
    with pytest.raises(docker.errors.APIError) as raised:
        engine_client.containers.get("ipython-k8s-local-no-such-container")
    message = engine_failure(raised.value)
    assert message.startswith("the container engine refused a request: ")
    assert "no such container" in message.lower() and "Client Error" not in message, message
