"""What `local up|status|down` print, read from real runs: one `local: ...` line per step on
stderr with its elapsed time, one summary line for what the local run ignores (the list with
--verbose, as is the image build's log), plain lines (no carriage returns), and stdout that is
the result only (`--json`: JSON).

One workspace of its own, both stacks with one engine: `up --json --build`, then
`up --verbose --build` (nothing changed: seconds), `status -v`, `down -v`; the finalizer brings
it down too when a test fails, and the last test checks that nothing is left.
"""

from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import dataclass

import pytest

from localrun import images
from localrun.report import Reporter

from .deployment import IMAGE, UP_TIMEOUT_SECONDS, owned

WORKSPACE = "e2e-output"
PARAMETERS = {"IPYTHON_ENGINES": "1", "IPYTHON_IMAGE": IMAGE}
#: A step's end: `local: <what was done> in 4.1 s` (or `in 95 s` past a minute).
DONE = r"local: (?P<what>.+) in (?P<seconds>[0-9]+(\.[0-9])?) s"


@dataclass
class Run:
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()


@pytest.fixture(scope="module")
def runs(local, engine_client):
    """The stdout and stderr of `up --json --build` (default output) and of `up --verbose --build`."""
    try:
        default = local.ok("up", "--workspace", WORKSPACE, "--json", "--build", timeout=UP_TIMEOUT_SECONDS, **PARAMETERS)
        verbose = local.ok("up", "--workspace", WORKSPACE, "--verbose", "--build", timeout=UP_TIMEOUT_SECONDS, **PARAMETERS)
        yield Run(default.stdout, default.stderr), Run(verbose.stdout, verbose.stderr)
    finally:
        local("down", "--workspace", WORKSPACE)


def _after(lines: list[str], start: str, done: str) -> float:
    """The seconds of the end line ``done`` (a regex of its text) that follows the start line ``start``."""
    assert start in lines, "\n".join(lines)
    for line in lines[lines.index(start) + 1:]:
        end = re.fullmatch(DONE, line)
        if end and re.fullmatch(done, end.group("what")):
            return float(end.group("seconds"))
    raise AssertionError(f"no end line {done!r} after {start!r}:\n" + "\n".join(lines))


def test_each_step_is_one_line_and_its_end_says_how_long_it_took(runs):
    default, _ = runs
    lines = default.lines
    assert all(line.startswith("local: ") for line in lines), default.stderr
    _after(lines, "local: synthesizing the stacks (python infra/main.py) ...", r"synthesized 2 stacks")
    _after(lines, f"local: building image {IMAGE} from image/ (--build) ...", re.escape(f"built image {IMAGE}"))
    _after(lines, "local: starting 3 containers in 3 pods ...", r"started 3 containers")
    url = json.loads(default.stdout)["url"]
    _after(lines, f"local: waiting for the viewer at {url} ...", r"the viewer answered")
    assert re.fullmatch(DONE, lines[-1]) and lines[-1].startswith("local: up in "), lines[-1]
    starts = [line for line in lines if line.endswith(" ...")]
    ends = [line for line in lines if re.fullmatch(DONE, line) and not line.startswith("local: up in ")]
    assert len(starts) == len(ends) == 4, default.stderr


def test_the_default_output_has_one_line_for_what_is_ignored_and_no_details(runs):
    default, verbose = runs
    ignored = [line for line in default.lines if "ignored" in line]
    assert len(ignored) == 1, default.stderr
    summary = re.fullmatch(r"local: ignored locally: ([0-9]+) kinds of settings \(--verbose lists them\)", ignored[0])
    assert summary, ignored[0]
    # the count is the number of kinds --verbose lists
    heading = f"local: ignored locally: {summary.group(1)} kinds of settings:"
    assert heading in verbose.lines, verbose.stderr
    start = verbose.lines.index(heading) + 1
    kinds = verbose.lines[start:start + int(summary.group(1))]
    assert all(line.startswith("local:   ") and ": " in line.removeprefix("local:   ") for line in kinds), kinds
    assert "local:   kubernetes_network_policy_v1 (x3): not enforced: every container of a namespace shares one network" \
        " (the per-cluster key still keeps clusters apart)" in kinds
    assert not verbose.lines[start + len(kinds)].startswith("local:   ")  # exactly that many
    # without --verbose, only heartbeats are indented (a slow machine's build or wait)
    assert [line for line in default.lines if line.startswith("local:  ")] == \
        [line for line in default.lines if line.startswith("local:   still ")]


def test_verbose_shows_the_image_builds_log_and_what_is_polled(runs):
    _, verbose = runs
    build = [line for line in verbose.lines if line.startswith("local:   | ")]
    assert [line for line in build if re.match(r"local:   \| (STEP|Step) 1/[0-9]+ ?: FROM ", line)], verbose.stderr
    assert any(re.fullmatch(r"local:   \| (STEP|Step) [0-9]+/[0-9]+: RUN .{150,}", line) for line in build), \
        "the log's lines are whole, not cut at 150 characters"
    assert re.search(r"^local:   polling http://127\.0\.0\.1:[0-9]+/api every 1 s", verbose.stderr, re.M), verbose.stderr
    # --build of an unchanged image/ changes nothing (a changed one replaces the containers)
    assert {"local: all 3 containers are up to date", "local: starting 3 containers in 3 pods ..."} & set(verbose.lines)
    assert verbose.lines[-1].startswith("local: up in ")


def test_stdout_is_the_result_only_and_no_line_is_rewritten(runs):
    default, verbose = runs
    printed = json.loads(default.stdout)
    assert sorted(printed) == ["engines", "password", "url"] and printed["engines"] == 1
    assert verbose.stdout.splitlines() == [f"viewer:   {printed['url']}", f"password: {printed['password']}", "engines:  1"]
    for run in runs:
        assert "\r" not in run.stderr and "\x1b" not in run.stderr


def test_status_verbose_adds_each_containers_pod_and_image(runs, local):
    quiet = local.ok("status", "--workspace", WORKSPACE).stdout.splitlines()
    verbose = local.ok("status", "--workspace", WORKSPACE, "-v").stdout.splitlines()
    assert quiet[0] == verbose[0] == f"workspace {WORKSPACE}: cluster-stack, viewer-stack"
    containers = [line for line in verbose if line.startswith("  running ")]
    assert len(containers) == 3, verbose
    assert all(re.search(rf", pod [a-z0-9-]+, image {re.escape(IMAGE)}\)$", line) for line in containers), verbose
    assert not [line for line in quiet if ", image " in line]


def test_a_silent_image_build_gets_a_heartbeat_naming_its_step(runs, engine_client):
    """The build step of `up` itself, in this process with a heartbeat of 0.3 s instead of 15 s;
    without --verbose the build's log is hidden, so the user sees silence and gets heartbeats."""
    stream = io.StringIO()
    images.ensure_images(engine_client, [IMAGE], rebuild=True, allow_build=True,
                         say=Reporter(stream, heartbeat_seconds=0.3))
    lines = stream.getvalue().splitlines()
    assert lines[0] == f"local: building image {IMAGE} from image/ (--build) ..."
    assert re.fullmatch(rf"local: built image {re.escape(IMAGE)} in [0-9.]+ s", lines[-1]), lines
    assert lines[1:-1], "a build takes more than 0.3 s, even from the cache"
    for line in lines[1:-1]:
        assert re.fullmatch(r"local:   still building the image \((step [0-9]+/[0-9]+, )?[0-9]+ s\)", line), line
    assert any("(step " in line for line in lines[1:-1]), lines


def test_down_verbose_names_what_it_removes_and_leaves_nothing(runs, local, engine_client):
    result = local.ok("down", "--workspace", WORKSPACE, "-v")
    lines = result.stderr.splitlines()
    assert lines[0] == f"local: removing 3 containers of workspace {WORKSPACE} ..."
    assert len([line for line in lines if line.startswith("local:   removing container ")]) == 3
    assert [line for line in lines if line.startswith("local:   removing volume ")], result.stderr
    assert re.fullmatch(r"local: removed 3 containers, [0-9]+ volumes, [0-9]+ networks? in [0-9.]+ s", lines[-1]), lines[-1]
    assert result.stdout == ""
    assert owned(engine_client, workspace=WORKSPACE) == {"containers": [], "volumes": [], "networks": []}
    again = local.ok("down", "--workspace", WORKSPACE).stderr.splitlines()
    assert again[-1].startswith("local: removed 0 containers, 0 volumes, ")
    assert not [t for t in threading.enumerate() if t.name == "local-heartbeat"]
