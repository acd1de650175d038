"""A wrong-password flood against a viewer on this machine, in bursts, run as its own process by
the tests.

    python tests/roles/login_flood.py PORT WORKERS PER_ADDRESS FIRST_OCTET

Every line N read from stdin starts a burst: each of the WORKERS threads sends N logins with a
wrong password to 127.0.0.1:PORT, and when all are answered one JSON line is printed (the count
of each status, the seconds, the attempts per second, the Retry-After values seen per status).
Each worker sends from loopback source addresses of its own (127.FIRST_OCTET+worker.x.y, which
Linux routes like 127.0.0.1) and moves to the next one after PER_ADDRESS attempts, across
bursts: with PER_ADDRESS below the throttle's free failures every attempt costs the server a
real password check, with more the throttle answers the rest. End of stdin ends the process; so do 300 s, and a burst stops after 60 s.

A process of its own, so that its CPU time and its GIL do not slow the client that measures the
logged-in user's latency, and one for all bursts, so that no interpreter start lands in a
measured window.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlencode

BURST_SECONDS = 60
PROCESS_SECONDS = 300


def _xsrf(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    response.read()
    cookies = response.headers.get_all("Set-Cookie") or []
    connection.close()
    for cookie in cookies:
        match = re.match(r"_xsrf=([^;]+)", cookie)
        if match:
            return match.group(1)
    raise RuntimeError("no _xsrf cookie from GET /login")


class Worker:
    def __init__(self, port: int, number: int, per_address: int, first_octet: int, xsrf: str):
        self.port = port
        self.octet = first_octet + number
        self.per_address = per_address
        self.body = urlencode({"password": "not the password", "_xsrf": xsrf})
        self.headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"_xsrf={xsrf}"}
        self.sent = 0
        self.connection: http.client.HTTPConnection | None = None

    def burst(self, attempts: int, counts: Counter, retry_after: dict, lock: threading.Lock, deadline: float) -> None:
        for _ in range(attempts):
            if time.monotonic() > deadline:
                return
            if self.sent % self.per_address == 0:
                self.close()
                n = self.sent // self.per_address
                source = f"127.{self.octet}.{n // 250}.{n % 250 + 1}"
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60, source_address=(source, 0)
                )
            assert self.connection is not None
            self.connection.request("POST", "/login", body=self.body, headers=self.headers)
            response = self.connection.getresponse()
            response.read()
            self.sent += 1
            with lock:
                counts[response.status] += 1
                retry = response.getheader("Retry-After")
                if retry is not None:
                    retry_after.setdefault(str(response.status), set()).add(retry)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def main(argv: list[str]) -> int:
    port, workers, per_address, first_octet = (int(a) for a in argv)
    ends = time.monotonic() + PROCESS_SECONDS
    team = [Worker(port, n, per_address, first_octet, _xsrf(port)) for n in range(workers)]
    for line in sys.stdin:
        if time.monotonic() > ends:
            break
        attempts = int(line)
        counts: Counter = Counter()
        retry_after: dict[str, set[str]] = {}
        lock = threading.Lock()
        started = time.monotonic()
        deadline = min(ends, started + BURST_SECONDS)
        threads = [threading.Thread(target=w.burst, args=(attempts, counts, retry_after, lock, deadline)) for w in team]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
        total = sum(counts.values())
        print(json.dumps({"statuses": {str(k): v for k, v in sorted(counts.items())}, "attempts": total,
                          "seconds": round(seconds, 2), "per_second": round(total / seconds, 1),
                          "retry_after": {k: sorted(v) for k, v in sorted(retry_after.items())}}), flush=True)
    for worker in team:
        worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
