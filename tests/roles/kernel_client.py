"""Run code in a kernel of a Jupyter server through its REST and websocket API, as a browser does.

Reusable by any test that has a running viewer (role tests, end-to-end tests against a
container or a cluster): log in with the password (the login form, its ``_xsrf`` cookie and a
``requests.Session`` that keeps the auth cookie), start a kernel (``POST /api/kernels``), send
``execute_request`` messages on ``/api/kernels/<id>/channels`` and collect what the kernel
prints, returns or raises.

    with JupyterClient("http://127.0.0.1:8888", password="secret") as jupyter:
        with jupyter.kernel() as kernel:
            assert kernel.run("print(1 + 1)").stdout == "2\\n"
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
import websocket


class KernelError(AssertionError):
    """The code raised in the kernel; the message carries the kernel's traceback."""


@dataclass
class Execution:
    stdout: str = ""
    stderr: str = ""
    result: str | None = None  # text/plain of the execute_result, if any
    error: dict | None = None  # content of the error message, if any
    outputs: list[dict] = field(default_factory=list)


class JupyterClient:
    def __init__(self, base_url: str, password: str | None = None, *, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        if password is not None:
            self.login(password)

    def __enter__(self) -> JupyterClient:
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    # -- HTTP --
    def _xsrf_headers(self) -> dict[str, str]:
        token = self.http.cookies.get("_xsrf")
        return {"X-XSRFToken": token} if token else {}

    def login(self, password: str) -> requests.Response:
        """POST the login form; raise if the server does not accept the password."""
        self.http.get(f"{self.base_url}/login", timeout=self.timeout).raise_for_status()
        response = self.http.post(
            f"{self.base_url}/login",
            data={"password": password, "_xsrf": self.http.cookies.get("_xsrf", "")},
            allow_redirects=False,
            timeout=self.timeout,
        )
        if response.status_code != 302:
            raise PermissionError(f"login refused: HTTP {response.status_code}")
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(f"{self.base_url}{path}", timeout=self.timeout, allow_redirects=False, **kwargs)

    def put(self, path: str, body: dict) -> requests.Response:
        return self.http.put(
            f"{self.base_url}{path}", data=json.dumps(body), headers=self._xsrf_headers(), timeout=self.timeout
        )

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return self.http.post(
            f"{self.base_url}{path}", data=json.dumps(body or {}), headers=self._xsrf_headers(), timeout=self.timeout
        )

    def delete(self, path: str) -> requests.Response:
        return self.http.delete(f"{self.base_url}{path}", headers=self._xsrf_headers(), timeout=self.timeout)

    # -- kernels --
    def start_kernel(self, name: str = "python3") -> str:
        response = self.post("/api/kernels", {"name": name})
        response.raise_for_status()
        return response.json()["id"]

    def shutdown_kernel(self, kernel_id: str) -> None:
        self.delete(f"/api/kernels/{kernel_id}")

    @contextmanager
    def kernel(self, name: str = "python3") -> Iterator[KernelConnection]:
        kernel_id = self.start_kernel(name)
        connection = KernelConnection(self, kernel_id)
        try:
            yield connection
        finally:
            connection.close()
            self.shutdown_kernel(kernel_id)


class KernelConnection:
    """One websocket to one kernel; ``run`` executes code and waits for the kernel to be idle."""

    def __init__(self, client: JupyterClient, kernel_id: str):
        self.client = client
        self.kernel_id = kernel_id
        self.session_id = uuid.uuid4().hex
        parts = urlsplit(client.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        url = f"{scheme}://{parts.netloc}{parts.path}/api/kernels/{kernel_id}/channels?session_id={self.session_id}"
        cookie = "; ".join(f"{c.name}={c.value}" for c in client.http.cookies)
        self.socket = websocket.create_connection(url, cookie=cookie, timeout=client.timeout)

    def close(self) -> None:
        self.socket.close()

    def _message(self, msg_type: str, content: dict) -> dict:
        return {
            "header": {
                "msg_id": uuid.uuid4().hex,
                "username": "test",
                "session": self.session_id,
                "msg_type": msg_type,
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }

    def run(self, code: str, *, timeout: float = 60, check: bool = True) -> Execution:
        """Execute ``code``; raise KernelError if it raised (unless check=False)."""
        request = self._message(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        msg_id = request["header"]["msg_id"]
        self.socket.send(json.dumps(request))
        execution = Execution()
        replied = idle = False
        deadline = time.monotonic() + timeout
        while not (replied and idle):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"kernel did not finish within {timeout} s: {code!r}")
            self.socket.settimeout(remaining)
            message = json.loads(self.socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            msg_type, content = message["msg_type"], message["content"]
            if msg_type == "stream":
                if content["name"] == "stdout":
                    execution.stdout += content["text"]
                else:
                    execution.stderr += content["text"]
                execution.outputs.append(message)
            elif msg_type == "execute_result":
                execution.result = content["data"].get("text/plain")
                execution.outputs.append(message)
            elif msg_type == "error":
                execution.error = content
                execution.outputs.append(message)
            elif msg_type == "execute_reply":
                replied = True
            elif msg_type == "status" and content["execution_state"] == "idle":
                idle = True
        if check and execution.error is not None:
            traceback = "\n".join(execution.error.get("traceback", []))
            raise KernelError(f"{execution.error['ename']}: {execution.error['evalue']}\n{traceback}")
        return execution
