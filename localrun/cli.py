"""``pipenv run local up|down|status``: the stacks of this project on a local container engine.

WHY a CLI of its own and not ``cdktf deploy``: nothing here can run Kubernetes, yet the
stacks should be tried before a cluster exists. ``up`` synthesizes the app, evaluates it as
Terraform would (random values kept in a local state) and runs every Deployment as
containers, wired as the Terraform declares (see docs/local-run.md).

Exit status: 0 done, 1 it did not work (engine, image, a container that never became
ready), 2 bad input (options or stack parameters; nothing was created).

Output: progress on stderr, one ``local: ...`` line per step with its elapsed time (see
report.py; ``--verbose`` adds the details), the result on stdout (``--json``: JSON only).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from .errors import LocalRunError, UsageError
from .report import Reporter, engine_failure

WORKSPACE_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?")
DEFAULT_TIMEOUT_SECONDS = 300.0


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def project_root() -> Path:
    """The project whose infra/main.py is synthesized: the current directory if it is one,
    else the checkout this package lives in."""
    here = Path.cwd()
    if (here / "infra" / "main.py").exists():
        return here
    return Path(__file__).resolve().parent.parent


def _workspace(value: str) -> str:
    if not WORKSPACE_PATTERN.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r}: lower-case letters, digits and '-', at most 40 characters")
    return value


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r}: a TCP port, 1 to 65535")
    return int(value)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{value!r}: a positive number of seconds")
    return seconds


def _directory(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value!r}: not a directory")
    return path.resolve()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="local", description="Run this project's cdktf stacks on a local Docker or Podman engine.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="{up,down,status}")

    def verbose(sub: argparse.ArgumentParser, what: str) -> None:
        sub.add_argument("-v", "--verbose", action="store_true", help=f"also show {what}")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--workspace", type=_workspace, default="default",
                         help="Terraform workspace: an independent set of state and containers (default: default)")
        sub.add_argument("--state-dir", type=Path, default=None,
                         help="where the local state lives (default: <project>/.localrun)")

    up = commands.add_parser("up", help="synthesize, build the image if missing, start the containers, wait for the viewer")
    common(up)
    up.add_argument("--stack", action="append", dest="stacks", metavar="NAME",
                    help="only this stack (repeatable; default: every stack of the app)")
    up.add_argument("--from", dest="from_dir", type=_directory, metavar="DIR",
                    help="use an existing synth output (cdktf.out) instead of running infra/main.py")
    up.add_argument("--port", type=_port, help="the port on 127.0.0.1 for the viewer (default: the last one, or a free one)")
    build = up.add_mutually_exclusive_group()
    build.add_argument("--build", action="store_true", help="rebuild the image even if it exists")
    build.add_argument("--no-build", action="store_true", help="fail instead of building a missing image")
    up.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT_SECONDS,
                    help=f"seconds to wait for the viewer (default: {DEFAULT_TIMEOUT_SECONDS:.0f})")
    up.add_argument("--json", action="store_true",
                    help='print only {"url": ..., "password": ..., "engines": N} (a list if several viewers)')
    verbose(up, "each ignored setting with its reason, the image build's log and each pod started")

    down = commands.add_parser("down", help="remove the workspace's containers, volumes and unused networks")
    common(down)
    down.add_argument("--stack", action="append", dest="stacks", metavar="NAME", help="only this stack (repeatable)")
    down.add_argument("--keep-volumes", action="store_true", help="keep the workspace volumes (PersistentVolumeClaims)")
    down.add_argument("--forget", action="store_true",
                      help="also forget the generated values (password, key, labels) of the state")
    verbose(down, "each container, volume and network removed")

    status = commands.add_parser("status", help="show what runs")
    status.add_argument("--workspace", type=_workspace, default=None, help="only this workspace")
    status.add_argument("--state-dir", type=Path, default=None)
    status.add_argument("--json", action="store_true", help="print the report as JSON")
    verbose(status, "each container's pod and image")
    return parser


def _print_viewers(viewers, as_json: bool) -> None:
    if as_json:
        payload = [v.as_json() for v in viewers]
        print(json.dumps(payload[0] if len(payload) == 1 else payload))
        return
    if not viewers:
        print("no viewer is published by these stacks")
    for viewer in viewers:
        print(f"viewer:   {viewer.url}")
        print(f"password: {viewer.password if viewer.password is not None else '(none)'}")
        print(f"engines:  {viewer.engines}")


def run(argv: list[str], say: Reporter) -> int:
    args = build_parser().parse_args(argv)
    say.verbose = args.verbose
    project = project_root()
    state_dir = (args.state_dir or project / ".localrun").resolve()
    if args.command == "up":
        from .apply import UpOptions, up

        options = UpOptions(
            project=project, state_dir=state_dir, workspace=args.workspace, stacks=args.stacks,
            from_dir=args.from_dir, port=args.port, rebuild=args.build, allow_build=not args.no_build,
            timeout=args.timeout, environ=dict(os.environ),
        )
        _print_viewers(up(options, say), args.json)
    elif args.command == "down":
        from .teardown import DownOptions, down

        down(DownOptions(state_dir=state_dir, workspace=args.workspace, stacks=args.stacks,
                         keep_volumes=args.keep_volumes, forget=args.forget), say)
    else:
        from .status import collect, render

        report = collect(state_dir, args.workspace, say)
        print(json.dumps(report, indent=1) if args.json else render(report, args.verbose))
    return 0


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    say = Reporter()
    try:
        return run(sys.argv[1:] if argv is None else argv, say)
    except LocalRunError as error:
        say.error(str(error))
        return error.exit_status
    except KeyboardInterrupt:
        say(f"interrupted after {time.monotonic() - started:.0f} s; `local down` removes what was made")
        return 130
    except Exception as error:  # noqa: BLE001 - only the engine's failures are put in words; others are bugs
        message = engine_failure(error)
        if message is None:
            raise
        say.error(message)
        return 1
