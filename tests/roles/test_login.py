"""The viewer lets in whoever knows IPYTHON_USER_PASSWORD, and nobody else: guessing is
throttled per address, a flood of guesses does not slow logged-in users, cookies are SameSite and
Secure over HTTPS, and /logout ends the session on the server (issue 14; see identity)."""

from __future__ import annotations

import http.client
import json
import select
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from .conftest import PASSWORD, Cluster
from .kernel_client import JupyterClient
from .processes import PYTHON, RoleProcess, wait_for_viewer

PROTECTED = ["/api/contents", "/api/kernels", "/api/sessions", "/api/terminals"]


def test_health_endpoint_answers_without_login(cluster: Cluster):
    response = requests.get(f"{cluster.url}/api", timeout=10)
    assert response.status_code == 200
    assert "version" in response.json()


def test_right_password_gets_in(cluster: Cluster):
    with JupyterClient(cluster.url, PASSWORD) as jupyter:
        for path in PROTECTED:
            assert jupyter.get(path).status_code == 200, path


@pytest.mark.parametrize("password", ["wrong password", "", PASSWORD.upper(), PASSWORD[:-1]])
def test_wrong_password_gets_no_access(cluster: Cluster, password: str):
    jupyter = JupyterClient(cluster.url)
    with pytest.raises(PermissionError, match="login refused"):
        jupyter.login(password)
    for path in PROTECTED:
        assert jupyter.get(path).status_code == 403, path
    assert jupyter.post("/api/kernels", {"name": "python3"}).status_code == 403


def test_no_login_gets_no_access(cluster: Cluster):
    jupyter = JupyterClient(cluster.url)
    for path in PROTECTED:
        assert jupyter.get(path).status_code == 403, path
    ui = jupyter.get("/tree")
    assert ui.status_code == 302 and "/login" in ui.headers["Location"]


@pytest.mark.parametrize("token", ["", "None", "null"])
def test_there_is_no_token_login(cluster: Cluster, token: str):
    response = requests.get(f"{cluster.url}/api/contents", params={"token": token}, timeout=10)
    assert response.status_code == 403
    response = requests.get(f"{cluster.url}/api/contents", headers={"Authorization": f"token {token}"}, timeout=10)
    assert response.status_code == 403


def test_config_file_holds_only_a_hash_and_is_private(cluster: Cluster):
    runtime = cluster.viewer.home / ".local" / "share" / "jupyter" / "runtime"
    config_file = runtime / "ipython-roles-viewer-config.json"
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(runtime.stat().st_mode) & 0o777 == 0o700  # Jupyter may add the sticky bit
    text = config_file.read_text()
    assert PASSWORD not in text
    hashed = json.loads(text)["PasswordIdentityProvider"]["hashed_password"]
    assert hashed.startswith("argon2:$argon2id$")
    assert json.loads(text)["IdentityProvider"]["token"] == ""


def test_explicit_opt_out_runs_without_authentication(tmp_path, ports):
    port = ports.port()
    viewer = RoleProcess(
        "open-viewer",
        tmp_path,
        {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_ALLOW_NO_PASSWORD": "true", "IPYTHON_VIEWER_PORT": str(port)},
    ).start()
    try:
        wait_for_viewer(viewer, port)
        assert requests.get(f"http://127.0.0.1:{port}/api/contents", timeout=10).status_code == 200
        assert "NO authentication" in viewer.log()
    finally:
        viewer.stop()


# -- throttle, password checks off the event loop, cookies, logout (issue 14) --------------------

FLOOD_SCRIPT = Path(__file__).with_name("login_flood.py")


class SourceAddressAdapter(HTTPAdapter):
    """Connect from ``source``: any 127.x.y.z is this machine's loopback, so one machine can be
    many client addresses (the viewer still only ever gets connections to 127.0.0.1)."""

    def __init__(self, source: str, **kwargs):
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def client_from(url: str, source: str, password: str | None = None, *, forwarded_for: str | None = None) -> JupyterClient:
    """A client connecting from ``source``; ``forwarded_for``: the X-Forwarded-For header of all
    its requests (what a proxy adds, or what a client forges)."""
    jupyter = JupyterClient(url)
    jupyter.http.mount("http://", SourceAddressAdapter(source))
    if forwarded_for is not None:
        jupyter.http.headers["X-Forwarded-For"] = forwarded_for
    if password is not None:
        jupyter.login(password)
    return jupyter


def attempt(jupyter: JupyterClient, password: str) -> requests.Response:
    """One POST of the login form: 302 (in), 401 (wrong), 429 (throttled) or 503 (busy)."""
    if "_xsrf" not in jupyter.http.cookies:
        jupyter.get("/login").raise_for_status()
    return jupyter.http.post(
        f"{jupyter.base_url}/login",
        data={"password": password, "_xsrf": jupyter.http.cookies["_xsrf"]},
        allow_redirects=False,
        timeout=60,
    )


def p90(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[int(0.9 * (len(ordered) - 1))]


@dataclass
class OwnViewer:
    process: RoleProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def viewer_of_its_own(tmp_path, ports, **variables: str) -> Iterator[OwnViewer]:
    """A viewer of its own: what a test does to its throttle does not reach other tests."""
    port = ports.port()
    viewer = RoleProcess(
        "own-viewer",
        tmp_path,
        {
            "IPYTHON_CONTAINER_TYPE": "viewer",
            "IPYTHON_USER_PASSWORD": PASSWORD,
            "IPYTHON_VIEWER_PORT": str(port),
            "IPYTHON_NOTEBOOK_DIR": str(tmp_path / "work"),
            **variables,
        },
    ).start()
    try:
        wait_for_viewer(viewer, port)
        yield OwnViewer(viewer, port)
    finally:
        viewer.stop()


@pytest.fixture
def own_viewer(tmp_path, ports) -> Iterator[OwnViewer]:
    with viewer_of_its_own(tmp_path, ports) as viewer:
        yield viewer


FLOOD_ROUNDS = 8
FLOOD_WORKERS = 8
FLOOD_BURST = 2  # per worker and round: 16 wrong passwords, about 2 s of password checks
FLOOD_ATTEMPTS_PER_ADDRESS = 4  # below the 5 free failures: every attempt is a password check


def guess_from(url: str, source: str) -> dict[str, object]:
    """5 wrong passwords, the right one, 25 wrong ones more, one after the other from ``source``."""
    with client_from(url, source) as attacker:
        started = time.monotonic()
        first = [attempt(attacker, f"guess {n}") for n in range(5)]
        right = attempt(attacker, PASSWORD)
        rest = [attempt(attacker, f"guess {n}") for n in range(5, 30)]
        return {
            "first": [r.status_code for r in first],
            "right": (right.status_code, right.headers.get("Retry-After")),
            "rest": [(r.status_code, r.headers.get("Retry-After")) for r in rest],
            "seconds": round(time.monotonic() - started, 2),
            "authenticated": attacker.get("/api/contents").status_code,
        }


def test_wrong_password_flood_is_throttled_and_logged_in_users_keep_their_speed(own_viewer: OwnViewer):
    """The red team's finding: 300 wrong passwords in 32 s, then the right one accepted; and a
    logged-in user's GET /api/contents from p90 7 ms to 2.6 s while 8 clients guessed.

    The user's latency is sampled in alternating windows, flooded then quiet (as long), eight
    times: this machine is shared, and whatever else slows it meanwhile weighs on both sides of
    the comparison. The flood is a process of its own (login_flood): 8 clients, each sending 2
    wrong passwords per round, 4 from each address so that none reaches the throttle and every
    one costs the server a real check (128 in all). Then an attacker on 127.0.0.1, the user's own
    address, is throttled (after the measured windows: its requests would share this process's
    GIL with the measuring client)."""
    url = own_viewer.url
    quiet: list[float] = []
    flooded: list[float] = []
    reports = []
    with client_from(url, "127.0.0.1", PASSWORD) as user:
        # measured with a plain keep-alive connection: requests' own CPU time per request is
        # several times the server's, on the same two cores
        cookie = "; ".join(f"{c.name}={c.value}" for c in user.http.cookies)
        connection = http.client.HTTPConnection("127.0.0.1", own_viewer.port, timeout=60)

        def contents_seconds() -> float:
            started = time.perf_counter()
            connection.request("GET", "/api/contents", headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            return time.perf_counter() - started

        for _ in range(10):  # warm up
            contents_seconds()
        flood = subprocess.Popen(
            [PYTHON, str(FLOOD_SCRIPT), str(own_viewer.port), str(FLOOD_WORKERS),
             str(FLOOD_ATTEMPTS_PER_ADDRESS), "10"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            # a session, and so a scheduler group (autogroup), of its own: the attacker's CPU time
            # is not taken from the measuring client, as it would not be from another machine
            start_new_session=True,
        )
        try:
            for _ in range(FLOOD_ROUNDS):
                started = time.monotonic()
                flood.stdin.write(f"{FLOOD_BURST}\n")
                flood.stdin.flush()
                while not select.select([flood.stdout], [], [], 0)[0]:
                    flooded.append(contents_seconds())
                    time.sleep(0.02)
                    assert flood.poll() is None, flood.stderr.read()
                reports.append(json.loads(flood.stdout.readline()))
                quiet_until = time.monotonic() + (time.monotonic() - started)
                while time.monotonic() < quiet_until:
                    quiet.append(contents_seconds())
                    time.sleep(0.02)
            flood.stdin.close()
            assert flood.wait(30) == 0, flood.stderr.read()
        finally:
            if flood.poll() is None:
                flood.kill()
                flood.wait(10)
            for stream in (flood.stdin, flood.stdout, flood.stderr):
                stream.close()
        connection.close()
        from_one_address = guess_from(url, "127.0.0.1")
        assert user.get("/api/contents").status_code == 200  # the user's session is not throttled

    print(
        f"flood rounds: {reports}\nfrom 127.0.0.1: {from_one_address}\n"
        f"GET /api/contents p90: quiet {p90(quiet) * 1000:.1f} ms over {len(quiet)} requests, "
        f"during the floods {p90(flooded) * 1000:.1f} ms over {len(flooded)}"
    )
    # the floods were real work for the server: password checks, not refusals
    assert all(report["statuses"] == {"401": FLOOD_WORKERS * FLOOD_BURST} for report in reports), reports
    # the logged-in user did not notice (at least 10 samples in the floods: enough for a p90)
    assert len(quiet) >= 100 and len(flooded) >= 10
    assert p90(flooded) <= 2 * p90(quiet)
    # the throttle: 5 wrong passwords checked, then 429 with Retry-After, the right one included
    assert from_one_address["first"] == [401] * 5
    assert from_one_address["right"] == (429, "1")
    rest = from_one_address["rest"]
    assert sum(1 for status, _ in rest if status == 429) >= 20, rest
    assert all(retry.isdigit() and int(retry) >= 1 for status, retry in rest if status == 429), rest
    assert from_one_address["authenticated"] == 403
    # ... while another address gets in with it
    with client_from(url, "127.0.0.2", PASSWORD) as other:
        assert other.get("/api/contents").status_code == 200


def test_a_throttled_address_gets_in_after_its_backoff_and_a_login_resets_its_count(own_viewer: OwnViewer):
    with client_from(own_viewer.url, "127.0.0.3") as jupyter:
        assert [attempt(jupyter, "wrong").status_code for _ in range(5)] == [401] * 5
        refused = attempt(jupyter, PASSWORD)
        assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")
        assert "Too many failed logins" in refused.text  # the login page says why
        time.sleep(1.1)
        assert attempt(jupyter, "wrong").status_code == 401  # the 6th failure: 2 s now
        refused = attempt(jupyter, PASSWORD)
        assert (refused.status_code, refused.headers["Retry-After"]) == (429, "2")
        time.sleep(2.1)
        assert attempt(jupyter, PASSWORD).status_code == 302
        assert jupyter.get("/api/contents").status_code == 200
    with client_from(own_viewer.url, "127.0.0.3") as again:
        # the login forgot the failures: 4 free ones again, the 5th starts a 1 s lock
        assert [attempt(again, "wrong").status_code for _ in range(5)] == [401] * 5
        assert attempt(again, PASSWORD).headers.get("Retry-After") == "1"
    assert "5 failed logins in a row from 127.0.0.3" in own_viewer.process.log()


def test_password_checks_wait_in_a_bounded_queue_and_the_rest_are_told_to_retry(own_viewer: OwnViewer):
    """100 wrong passwords at once, from 100 addresses (so the throttle lets each through): one
    check runs, 32 wait, the others get 503 with Retry-After: 1 at once instead of queueing."""
    flood = subprocess.run(
        [PYTHON, str(FLOOD_SCRIPT), str(own_viewer.port), "100", "1", "50"],
        input="1\n", capture_output=True, text=True, timeout=120, start_new_session=True,
    )
    assert flood.returncode == 0, flood.stderr
    report = json.loads(flood.stdout)
    print(report)
    statuses = report["statuses"]
    assert set(statuses) <= {"401", "503"} and sum(statuses.values()) == 100, report
    assert 33 <= statuses["401"] < 100 and statuses["503"] >= 1, report
    assert report["retry_after"] == {"503": ["1"]}, report
    with client_from(own_viewer.url, "127.0.0.5") as jupyter:
        # the queue is empty again: a login goes through
        assert attempt(jupyter, PASSWORD).status_code == 302


# -- behind a proxy: IPYTHON_TRUSTED_PROXIES -------------------------------------------------------
# Here 127.0.0.1 plays the ingress controller: every connection of a proxied client comes from it,
# the client's own address in the X-Forwarded-For header it adds (ingress-nginx writes the address
# it saw; a proxy that appends keeps what the client sent on the left).


def fail_five_times(jupyter: JupyterClient) -> None:
    assert [attempt(jupyter, "wrong").status_code for _ in range(5)] == [401] * 5


def test_behind_a_trusted_proxy_each_forwarded_client_is_throttled_on_its_own(tmp_path, ports):
    """The lock-out the default has behind the Ingress: one attacker's wrong passwords locked
    every client of the ingress controller's address out. With the proxy's addresses trusted the
    attacker is locked, and a user through the same proxy logs in at once."""
    with viewer_of_its_own(tmp_path, ports, IPYTHON_TRUSTED_PROXIES="127.0.0.0/8") as viewer:
        with client_from(viewer.url, "127.0.0.1", forwarded_for="203.0.113.7") as attacker:
            fail_five_times(attacker)
            refused = attempt(attacker, PASSWORD)
            assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")
            # a forged entry on the left of what the proxy appended changes nothing
            attacker.http.headers["X-Forwarded-For"] = "198.51.100.9, 203.0.113.7"
            assert attempt(attacker, PASSWORD).status_code == 429
        with client_from(viewer.url, "127.0.0.1", forwarded_for="198.51.100.9") as user:
            assert attempt(user, PASSWORD).status_code == 302
            assert user.get("/api/contents").status_code == 200
        log = viewer.process.log()
    assert "5 failed logins in a row from 203.0.113.7 (via 127.0.0.1)" in log
    assert "logged in from 198.51.100.9 (via 127.0.0.1)" in log


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP"])
def test_by_default_a_forged_forwarded_address_does_not_escape_the_lock(own_viewer: OwnViewer, header: str):
    """No IPYTHON_TRUSTED_PROXIES: the client is the TCP peer, whatever address it writes."""
    with client_from(own_viewer.url, "127.0.0.8") as forger:
        statuses = []
        for n in range(5):
            forger.http.headers[header] = f"203.0.113.{n + 1}"
            statuses.append(attempt(forger, "wrong").status_code)
        assert statuses == [401] * 5
        forger.http.headers[header] = "198.51.100.9"
        assert attempt(forger, PASSWORD).status_code == 429
    assert "5 failed logins in a row from 127.0.0.8:" in own_viewer.process.log()


def test_a_peer_that_is_not_a_trusted_proxy_is_throttled_by_its_own_address(tmp_path, ports):
    """Only 127.0.0.1 is trusted: 127.0.0.9 sending X-Forwarded-For is keyed by 127.0.0.9, and
    a client forwarded by 127.0.0.1 is not caught in its lock."""
    with viewer_of_its_own(tmp_path, ports, IPYTHON_TRUSTED_PROXIES="127.0.0.1") as viewer:
        with client_from(viewer.url, "127.0.0.9") as forger:
            statuses = []
            for n in range(5):
                forger.http.headers["X-Forwarded-For"] = f"203.0.113.{n + 1}"
                statuses.append(attempt(forger, "wrong").status_code)
            assert statuses == [401] * 5
            forger.http.headers["X-Forwarded-For"] = "198.51.100.9"
            assert attempt(forger, PASSWORD).status_code == 429
        with client_from(viewer.url, "127.0.0.1", forwarded_for="198.51.100.9") as user:
            assert attempt(user, PASSWORD).status_code == 302
        log = viewer.process.log()
    assert "5 failed logins in a row from 127.0.0.9:" in log


def set_cookies(response: requests.Response) -> dict[str, str]:
    """name -> the whole Set-Cookie line, from the raw headers (requests folds them)."""
    lines = response.raw.headers.getlist("Set-Cookie")
    return {line.split("=", 1)[0]: line for line in lines}


def attributes(line: str) -> set[str]:
    """The attributes of a Set-Cookie line, lower case: {"httponly", "samesite=lax", "path", ...}."""
    names = set()
    for part in line.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        names.add(f"samesite={value.lower()}" if name.lower() == "samesite" else name.lower())
    return names


@pytest.mark.parametrize("proxy_headers, secure", [({}, False), ({"X-Forwarded-Proto": "https"}, True)],
                         ids=["plain-http", "behind-tls-ingress"])
def test_cookies_are_samesite_lax_and_secure_when_served_over_https(cluster: Cluster, proxy_headers, secure):
    """Behind the Ingress the viewer only sees HTTP, with X-Forwarded-Proto: https (ingress-nginx)."""
    page = requests.get(f"{cluster.url}/login", headers=proxy_headers, timeout=10)
    xsrf_line = set_cookies(page)["_xsrf"]
    xsrf = xsrf_line.split(";")[0].split("=", 1)[1]
    login = requests.post(
        f"{cluster.url}/login",
        data={"password": PASSWORD, "_xsrf": xsrf},
        headers={**proxy_headers, "Cookie": f"_xsrf={xsrf}"},  # a Secure cookie is not sent over http
        allow_redirects=False,
        timeout=30,
    )
    assert login.status_code == 302
    login_line = next(line for name, line in set_cookies(login).items() if name.startswith("username-"))
    print(f"_xsrf: {xsrf_line}\nlogin: {login_line}")
    assert {"samesite=lax", "path"} <= attributes(xsrf_line)
    assert {"samesite=lax", "httponly", "path", "expires"} <= attributes(login_line)
    assert ("secure" in attributes(xsrf_line)) is secure
    assert ("secure" in attributes(login_line)) is secure


def test_a_cookie_captured_before_logout_no_longer_works_after_it(cluster: Cluster):
    with JupyterClient(cluster.url, PASSWORD) as leaving, JupyterClient(cluster.url, PASSWORD) as staying:
        captured = {cookie.name: cookie.value for cookie in leaving.http.cookies}
        assert requests.get(f"{cluster.url}/api/contents", cookies=captured, timeout=10).status_code == 200
        identity = leaving.get("/api/me").json()["identity"]
        assert "session" not in identity  # the session id is only in the (HttpOnly) cookie
        assert leaving.get("/logout").status_code == 200
        assert requests.get(f"{cluster.url}/api/contents", cookies=captured, timeout=10).status_code == 403
        page = requests.get(f"{cluster.url}/tree", cookies=captured, allow_redirects=False, timeout=10)
        assert page.status_code == 302 and "/login" in page.headers["Location"]
        # logging out ends that session only
        assert staying.get("/api/contents").status_code == 200
