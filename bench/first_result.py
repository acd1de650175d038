"""First result and second up: `local up` to a notebook's ``Client().ids`` listing every engine.

**First result**, ours: from nothing running (after ``local down``; the image present, the synth
output of the last ``up`` kept, as after any ``down``; a warm-up pass makes it) run ``python -m
localrun up`` (what ``pipenv run local up`` runs; pipenv's own start is measured apart), then, as
a user does once it prints the URL: log in to the viewer, start a kernel and run ``import
ipyparallel as ipp; c = ipp.Client()`` until ``len(c.ids)`` is the number of engines. The clock
stops when the kernel sees every engine.

The baseline is the same image started by hand through the Docker API (what ``docker run``
does), with no local runner: one container running the image's viewer role (password login,
published on 127.0.0.1, no cluster settings, so it writes no connection file of its own) and one
running ``ipcluster start -n 2`` from the image's venv (ipyparallel's defaults: no CurveZMQ, its
own heartbeat), listening on all addresses and locating itself by its container name (its DNS
name on the network). The two share a fresh named volume at ``~/.ipython``, where ``ipcluster``
writes ``ipcontroller-client.json`` and where the viewer's kernel's ``Client()`` looks for it.
Its network exists before the clock starts (``docker network create`` once, as a user would);
the volume and both containers are made inside the timed part, as ``docker run -v`` makes them,
and the viewer's ``/api`` is polled every 20 ms before logging in. Both sides then run the same
client code, which retries ``Client()`` until a connection file is there. Only ours has the CPU
and memory limits, read-only root and dropped capabilities the stacks declare.

**Second up**: ``local up`` again with nothing changed, process start to exit, against the least
any second ``up`` has to do: a fresh Python process asking the engine (Docker API) for the
workspace's containers. The time from there to ``Client().ids`` complete again (a new kernel)
is in the breakdown.

Where the time goes is in ``breakdown`` of results.json (medians): the ``local:`` lines' arrival
(``-v``), the viewer container's own log (container start, entrypoint, Jupyter server exec and
listening), timestamps taken inside the kernel, the controller's log (every engine registered),
and CPU seconds from the containers' cgroups and of ``local up`` itself, which the machine's
load does not inflate. The load average before each side's run is kept too: on a shared 2-core
machine it explains the spread.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import docker
import docker.errors
import requests
from docker.models.containers import Container
from docker.models.networks import Network

from localrun import engine, labels
from tests.roles.kernel_client import JupyterClient, KernelConnection

from .timing import Comparison

ROOT = Path(__file__).resolve().parent.parent
#: Of this process: a benchmark run by another session at the same time keeps to its own.
WORKSPACE = f"bench-first-result-{os.getpid()}"
ENGINES = 2
#: The stacks' default image, tagged under a name of this benchmark: other sessions rebuilding
#: the default tag meanwhile change neither side's image (nor our fingerprints).
SOURCE_IMAGE = "ghcr.io/ipython-k8s/ipython-notebook:0.1.0"
IMAGE_REPOSITORY = "localhost/ipython-bench-first-result"
PASSWORD = "bench-first-result-password"
TEST_LABEL = "io.ipython-k8s.test"  # the test session's leak guard sees what a quick pass leaves
POLL_SECONDS = 0.02
DEADLINE_SECONDS = 300
#: A request to the engine may take this long: a Podman on a machine at load 60+ has been seen
#: not to answer an inspect within the SDK's 60 s.
ENGINE_TIMEOUT_SECONDS = 300

#: Run in the viewer's kernel: the user's cell, with timestamps (host and containers share a clock).
CELL = """
import time as _time
_marks = {"code": _time.time()}
import ipyparallel as ipp
_marks["imported"] = _time.time()
_deadline = _time.monotonic() + %(deadline)d
while True:
    try:
        c = ipp.Client()
        break
    except TimeoutError:  # a controller that does not answer: no retry hides it
        raise
    except (OSError, ValueError):  # no connection file yet (the baseline's ipcluster writes it late)
        if _time.monotonic() > _deadline:
            raise
        _time.sleep(0.05)
_marks["client"] = _time.time()
while len(c.ids) < %(engines)d and _time.monotonic() < _deadline:
    _time.sleep(0.05)
_marks["engines"] = _time.time()
_marks["ids"] = sorted(c.ids)
c.close()
import json as _json
print(_json.dumps(_marks))
"""


# -- the client side, the same for both ------------------------------------------------------
def first_result(url: str, password: str, engines: int) -> dict[str, float]:
    """Log in, start a kernel, wait in it until ``Client().ids`` has ``engines`` ids: timestamps."""
    marks = {"begin": time.time()}
    with JupyterClient(url, password=password, timeout=120) as jupyter:
        marks["logged_in"] = time.time()
        kernel_id = jupyter.start_kernel()
        marks["kernel_created"] = time.time()
        connection = KernelConnection(jupyter, kernel_id)
        try:
            execution = connection.run(CELL % {"engines": engines, "deadline": DEADLINE_SECONDS},
                                       timeout=DEADLINE_SECONDS + 30)
            marks["done"] = time.time()
        finally:
            connection.close()
            jupyter.shutdown_kernel(kernel_id)
    inside = json.loads(execution.stdout.strip().splitlines()[-1])
    if len(inside.pop("ids")) != engines:
        raise RuntimeError(f"the kernel saw fewer than {engines} engines within {DEADLINE_SECONDS} s")
    marks.update(inside)
    return marks


def _client_phases(marks: dict[str, float]) -> dict[str, float]:
    return {
        "log in": marks["logged_in"] - marks["begin"],
        "kernel start (POST /api/kernels to the cell running)": marks["code"] - marks["logged_in"],
        "import ipyparallel (kernel)": marks["imported"] - marks["code"],
        "Client() (kernel)": marks["client"] - marks["imported"],
        "engines registered after Client() (kernel)": marks["engines"] - marks["client"],
        "cell output back to the browser": marks["done"] - marks["engines"],
    }


# -- the viewer's own log ------------------------------------------------------------------
_LOG_TIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)")


def _engine_time(text: str) -> float:
    """An engine timestamp (RFC 3339, nanoseconds) in seconds since the epoch."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?", text)
    assert match, text
    whole = datetime.fromisoformat(match.group(1)).replace(tzinfo=timezone.utc).timestamp()
    return whole + float((match.group(2) or ".0")[:10])


def _log_time(line: str) -> float | None:
    match = _LOG_TIME.search(line)
    if not match:
        return None
    return datetime.strptime(match.group(1)[:26], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()


def viewer_marks(container) -> dict[str, float]:
    """Container started, entrypoint's first line, the server's exec, the server listening."""
    container.reload()
    marks = {"container started": _engine_time(container.attrs["State"]["StartedAt"])}
    for line in container.logs().decode(errors="replace").splitlines():
        at = _log_time(line)
        if at is None:
            continue
        if "[entrypoint]" in line and "entrypoint first line" not in marks:
            marks["entrypoint first line"] = at
        elif "[entrypoint] exec:" in line:
            marks["server exec"] = at
        elif "ServerApp]" in line and "server first line" not in marks:
            marks["server first line"] = at
        elif "is running at" in line:
            marks["server listening"] = at
            break
    return marks


CGROUP_ROOT = Path("/sys/fs/cgroup")


def cpu_seconds(container) -> float | None:
    """CPU seconds the container's processes used so far, from its cgroup (cgroup v1's cpuacct
    or v2's cpu.stat), when this machine runs it; a figure the machine's load does not inflate."""
    container.reload()
    pid = (container.attrs.get("State") or {}).get("Pid")
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines() if pid else []
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        try:
            if "cpuacct" in controllers.split(","):
                return int((CGROUP_ROOT / "cpuacct" / path.lstrip("/") / "cpuacct.usage").read_text()) / 1e9
            if controllers == "" and (CGROUP_ROOT / path.lstrip("/") / "cpu.stat").exists():
                stat = dict(entry.split() for entry in (CGROUP_ROOT / path.lstrip("/") / "cpu.stat").read_text().splitlines())
                return int(stat["usage_usec"]) / 1e6
        except (OSError, KeyError, ValueError):
            continue
    return None


def _cpu_total(containers) -> float | None:
    figures = [cpu_seconds(c) for c in containers]
    return None if None in figures else sum(figures)


def registered_at(container, engines: int) -> float | None:
    """When the controller logged the last of ``engines`` engines connected (ours and
    ``ipcluster``'s controller both log ``engine::Engine Connected: <id>``)."""
    connected = [at for line in container.logs().decode(errors="replace").splitlines()
                 if "engine::Engine Connected" in line and (at := _log_time(line)) is not None]
    return connected[engines - 1] if len(connected) >= engines else None


def _viewer_phases(marks: dict[str, float], answered: float) -> dict[str, float]:
    order = ["container started", "entrypoint first line", "server exec", "server first line", "server listening"]
    present = [name for name in order if name in marks]
    phases = {f"viewer: {a} -> {b}": marks[b] - marks[a] for a, b in zip(present, present[1:])}
    if present:
        phases[f"viewer: {present[-1]} -> /api answered"] = answered - marks[present[-1]]
    return phases


# -- ours --------------------------------------------------------------------------------------
def _environ(image: str) -> dict[str, str]:
    """A user's environment: no stack parameter but the image and the engines, and byte-code
    written (a user's second run finds localrun's compiled; this session may say otherwise)."""
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("IPYTHON_", "TF_VAR_")) and k != "PYTHONDONTWRITEBYTECODE"}
    environ.update(IPYTHON_IMAGE=image, IPYTHON_ENGINES=str(ENGINES), PYTHONUNBUFFERED="1")
    return environ


def _local(state_dir: Path, image: str, *args: str) -> tuple[subprocess.CompletedProcess, list[tuple[float, str]], float]:
    """``python -m localrun ARGS``: the result, its stderr lines with their arrival times, start."""
    command = [sys.executable, "-m", "localrun", *args, "--state-dir", str(state_dir)]
    lines: list[tuple[float, str]] = []
    started = time.time()
    process = subprocess.Popen(command, cwd=ROOT, env=_environ(image), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append((time.time(), line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert process.stdout is not None
    stdout = process.stdout.read()
    process.wait(timeout=DEADLINE_SECONDS)
    ended = time.time()
    reader.join()
    result = subprocess.CompletedProcess(command, process.returncode, stdout, "\n".join(line for _, line in lines))
    if process.returncode != 0:
        raise RuntimeError(f"local {' '.join(args)} failed ({process.returncode}):\n{result.stderr[-3000:]}")
    lines.append((ended, "(exit)"))
    return result, lines, started


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _first(lines: list[tuple[float, str]], pattern: str) -> float | None:
    for at, line in lines:
        if re.search(pattern, line):
            return at
    return None


def _up_phases(lines: list[tuple[float, str]], started: float) -> dict[str, float]:
    """Intervals between the ``local:`` lines that mark each step of ``up``."""
    points = [
        ("process start", started),
        ("first line (Python start, imports)", _first(lines, r"^local: ")),
        ("synth done (or reused)", _first(lines, r"^local: synthesized ")),
        ("image checked (engine connect, plan, ports, state, image)", _first(lines, r"image .* is in the engine")),
        ("containers started", _first(lines, r"^local: (started \d+ container|all \d+ containers are up to date|"
                                              r"the container is up to date)")),
        ("viewer answered", _first(lines, r"^local: the viewer answered")),
        ("exit", lines[-1][0]),
    ]
    present = [(name, at) for name, at in points if at is not None]
    return {f"up: -> {b}": tb - ta for (_, ta), (b, tb) in zip(present, present[1:])}


class FirstResult:
    """Our side: ``local up`` in a workspace and a state directory of its own."""

    def __init__(self, work: Path, image: str, client):
        self.state_dir = work / "first-result-state"
        self.image = image
        self.client = client

    def down(self, attempts: int = 3) -> None:
        """``local down``, asked again when a busy engine failed it (it removes what is left)."""
        for attempt in range(attempts):
            try:
                _local(self.state_dir, self.image, "down", "--workspace", WORKSPACE)
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                time.sleep(5)

    def container(self, component: str):
        [container] = self.client.containers.list(
            filters={"label": [*labels.selector(workspace=WORKSPACE), f"app.kubernetes.io/component={component}"]})
        return container

    def first(self) -> tuple[float, dict[str, float]]:
        """From nothing running: seconds to the first result, and where they went."""
        cpu_before = _children_cpu()
        result, lines, started = _local(self.state_dir, self.image, "up", "--workspace", WORKSPACE, "--json", "-v")
        cpu_up = _children_cpu() - cpu_before
        viewer_cpu = cpu_seconds(self.container("viewer"))
        printed = json.loads(result.stdout)
        marks = first_result(printed["url"], printed["password"], printed["engines"])
        phases = _up_phases(lines, started)
        phases["CPU-s: `local up` itself (and a synth it ran)"] = cpu_up
        everything = _cpu_total(self.client.containers.list(filters={"label": labels.selector(workspace=WORKSPACE)}))
        if viewer_cpu is not None and everything is not None:
            phases["CPU-s: the viewer container until it answered"] = viewer_cpu
            phases["CPU-s: every container until the first result"] = everything
        answered = _first(lines, r"^local: the viewer answered") or lines[-1][0]
        viewer = viewer_marks(self.container("viewer"))
        phases["viewer container started, from the start"] = viewer["container started"] - started
        phases.update(_viewer_phases(viewer, answered))
        phases.update(_client_phases(marks))
        registered = registered_at(self.container("controller"), ENGINES)
        if registered is not None:
            phases["engines all registered (controller's log), from the start"] = registered - started
        return marks["engines"] - started, phases

    def second(self) -> tuple[float, dict[str, float]]:
        """Up again, nothing changed: seconds of the command, and the rest up to a result."""
        result, lines, started = _local(self.state_dir, self.image, "up", "--workspace", WORKSPACE, "--json", "-v")
        up_seconds = lines[-1][0] - started
        printed = json.loads(result.stdout)
        marks = first_result(printed["url"], printed["password"], printed["engines"])
        phases = {f"second {name}": value for name, value in _up_phases(lines, started).items()}
        phases.update({f"second {name}": value for name, value in _client_phases(marks).items()})
        phases["second up to the result"] = marks["engines"] - started
        return up_seconds, phases


# -- the baseline ----------------------------------------------------------------------------
class ByHand:
    """The same image run by hand: a viewer and ``ipcluster start -n 2`` (see the module's docstring)."""

    def __init__(self, client, image: str):
        self.client = client
        self.image = image
        self.tag = f"bench-first-result-{os.getpid()}"
        self.labels = {TEST_LABEL: self.tag}
        self.network = None
        self.made: list = []

    def prepare(self) -> None:
        self.network = self.client.networks.create(f"{self.tag}-net", driver="bridge", labels=self.labels)

    def first(self) -> tuple[float, dict[str, float]]:
        started = time.time()
        volume = self.client.volumes.create(name=f"{self.tag}-ipython", labels=self.labels)
        self.made.append(volume)
        mounts = {volume.name: {"bind": "/home/ipython/.ipython", "mode": "rw"}}
        name = f"{self.tag}-ipcluster"  # its DNS name on the network, where it says it is
        cluster = self.client.containers.run(
            self.image, ["/opt/venv/bin/ipcluster", "start", f"-n={ENGINES}", "--ip=*", f"--location={name}"],
            name=name, network=self.network.name, volumes=mounts, labels=self.labels, detach=True)
        self.made.insert(0, cluster)
        viewer = self.client.containers.run(
            self.image, name=f"{self.tag}-viewer", network=self.network.name, volumes=mounts, labels=self.labels,
            environment={"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": PASSWORD},
            ports={"8888/tcp": ("127.0.0.1", None)}, detach=True)
        self.made.insert(0, viewer)
        created = time.time()
        viewer.reload()
        port = engine.published_port(viewer, 8888) or int(viewer.attrs["NetworkSettings"]["Ports"]["8888/tcp"][0]["HostPort"])
        url = f"http://127.0.0.1:{port}"
        answered = self._wait_for(url, viewer)
        viewer_cpu = cpu_seconds(viewer)
        marks = first_result(url, PASSWORD, ENGINES)
        everything = _cpu_total([viewer, cluster])
        phases = {"by hand: volume and 2 containers created and started": created - started,
                  "by hand: -> viewer answered": answered - created}
        viewer_log = viewer_marks(viewer)
        phases["viewer container started, from the start"] = viewer_log["container started"] - started
        phases.update(_viewer_phases(viewer_log, answered))
        phases.update(_client_phases(marks))
        registered = registered_at(cluster, ENGINES)
        if registered is not None:
            phases["engines all registered (controller's log), from the start"] = registered - started
        if viewer_cpu is not None and everything is not None:
            phases["CPU-s: the viewer container until it answered"] = viewer_cpu
            phases["CPU-s: every container until the first result"] = everything
        return marks["engines"] - started, phases

    def _wait_for(self, url: str, viewer) -> float:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/api", timeout=2).status_code == 200:
                    return time.time()
            except requests.RequestException:
                pass
            time.sleep(POLL_SECONDS)
        raise RuntimeError(f"the hand-started viewer did not answer within {DEADLINE_SECONDS} s:\n"
                           f"{engine.logs_tail(viewer)}")

    def list_containers(self) -> float:
        """A fresh Python process listing the workspace's containers through the Docker API."""
        code = ("import os; from localrun import engine_setup, labels; "
                "found = engine_setup.find_engine(os.environ, print, set_up=False); "
                "client = engine_setup.docker_client(found.docker_host); "
                f"print(len(client.containers.list(all=True, filters={{'label': labels.selector(workspace={WORKSPACE!r})}})))")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    def teardown(self) -> None:
        """Remove the containers, then their volume; a busy engine that could not stop a
        container in time (Podman: "given PIDs did not die within timeout") is asked again."""
        left = []
        for thing in self.made:
            if not _remove(thing):
                left.append(thing)
        self.made = []
        if left:
            raise RuntimeError(f"could not remove {', '.join(t.name for t in left)}")

    def close(self) -> None:
        try:
            self.teardown()
        finally:
            if self.network is not None and _remove(self.network):
                self.network = None


def _remove(thing, attempts: int = 5) -> bool:
    """Remove a container (stopped first), volume or network; False if the engine keeps refusing."""
    for attempt in range(attempts):
        try:
            if isinstance(thing, Container):
                thing.stop(timeout=10)
                thing.remove(force=True)
            elif isinstance(thing, Network):
                thing.remove()
            else:
                thing.remove(force=True)
            return True
        except docker.errors.NotFound:
            return True
        except docker.errors.APIError:
            time.sleep(2 * (attempt + 1))
    return False


def pipenv_overhead() -> float | None:
    """What ``pipenv run`` adds to a command (``pipenv run python -c pass`` against ``python -c
    pass``): in front of ``pipenv run local up``, outside both figures; None without pipenv."""
    try:
        wrapped = _seconds(["pipenv", "run", "python", "-c", "pass"])
    except (OSError, subprocess.CalledProcessError):
        return None
    return wrapped - _seconds([sys.executable, "-c", "pass"])


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PIPENV_VENV_IN_PROJECT": "1", "PIPENV_VERBOSITY": "-1"})
    return time.perf_counter() - started


# -- the comparison ------------------------------------------------------------------------
class _WithBreakdown(Comparison):
    breakdown: dict

    def as_dict(self) -> dict:
        return {**super().as_dict(), "breakdown": self.breakdown}


def _medians(samples: list[dict[str, float]]) -> dict[str, float]:
    names = [name for sample in samples for name in sample]
    return {name: round(statistics.median(s[name] for s in samples if name in s), 3) for name in dict.fromkeys(names)}


def _private_image(client) -> str:
    """The stacks' default image under this benchmark's own tag (built by ``local up`` if missing)."""
    try:
        image = client.images.get(SOURCE_IMAGE)
    except docker.errors.ImageNotFound:
        raise RuntimeError(f"image {SOURCE_IMAGE} is missing: run `pipenv run local up` once to build it") from None
    tag = str(os.getpid())
    image.tag(IMAGE_REPOSITORY, tag)
    return f"{IMAGE_REPOSITORY}:{tag}"


def run(runs: int, work: Path, *, warm_up: bool = True) -> list[Comparison]:
    first = _WithBreakdown(name="first_result", what=f"`local up` from nothing running to a notebook's "
                           f"`Client().ids` listing {ENGINES} engines (image present)", unit="s",
                           baseline_name=f"the image's viewer and `ipcluster start -n {ENGINES}` run by hand "
                           "(Docker API), same client steps", goal="<= 10 s")
    second = _WithBreakdown(name="second_up", what="`local up` again, nothing changed (command start to exit)",
                            unit="s", baseline_name="a fresh Python process listing the workspace's containers "
                            "(Docker API)", goal="<= 3 s")
    client = engine.connect()
    client.api.timeout = ENGINE_TIMEOUT_SECONDS
    image = _private_image(client)
    ours = FirstResult(work, image, client)
    hand = ByHand(client, image)
    samples: dict[str, list[dict[str, float]]] = {"ours": [], "baseline": []}
    loads: list[float] = []
    try:
        ours.down()  # from nothing, also after an interrupted run
        hand.prepare()
        if warm_up:  # the synth output, the page cache of the image's layers: as on a user's second day
            ours.first()
            ours.down()
            hand.first()
            hand.teardown()

        def ours_side() -> None:
            seconds, phases = ours.first()
            up_seconds, second_phases = ours.second()
            first.ours.append(seconds)
            second.ours.append(up_seconds)
            overhead = pipenv_overhead()
            if overhead is not None:
                second_phases["pipenv run's own start (before `local up`, in neither figure)"] = overhead
            samples["ours"].append({**phases, **second_phases})
            ours.down()

        def baseline_side() -> None:
            seconds, phases = hand.first()
            second.baseline.append(hand.list_containers())
            first.baseline.append(seconds)
            samples["baseline"].append(phases)
            hand.teardown()

        for index in range(runs):
            order = [ours_side, baseline_side] if index % 2 == 0 else [baseline_side, ours_side]
            for side in order:
                loads.append(os.getloadavg()[0])
                side()
    finally:
        try:
            ours.down()
        finally:
            hand.close()
            client.images.remove(image)
    load = {"load_average_1min_min": round(min(loads), 2), "load_average_1min_max": round(max(loads), 2),
            "load_average_1min_before_each_side": [round(x, 2) for x in loads]} if loads else {}
    first.breakdown = {"ours": _medians(samples["ours"]), "baseline": _medians(samples["baseline"]), **load}
    second.breakdown = {"ours": {k: v for k, v in first.breakdown["ours"].items() if k.startswith("second ")}, **load}
    return [first, second]
