"""Getting the synthesized stacks: run the cdktf app, or read a cdktf.out someone made.

WHY run ``python infra/main.py`` instead of importing the stacks: it is exactly what
``cdktf synth`` runs (cdktf.json's ``app``), with the caller's environment, so the local run
sees the same parameters, the same validation messages and the same JSON as a deploy; the
output goes into a directory of the local runner (``CDKTF_OUTDIR``) and never overwrites the
project's cdktf.out.

A synth takes 3-5 s (Python, jsii's Node.js process, the provider bindings), most of a
second `up` and a third of a first one. Its output depends only on the app's code and the
environment it reads, so it is reused when neither changed: the key (:func:`synth_key`) hashes
every file of infra/ and the construct library, cdktf.json, Pipfile.lock, the Python version and
the environment variables the app can read (IPYTHON_*, KUBE*, CDKTF_* but the output directory,
TF_VAR_*); removing .localrun/synth forces a synth.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import LocalRunError, UsageError

SYNTH_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class SynthStack:
    name: str
    dependencies: tuple[str, ...]
    working_directory: str  # relative to the output directory, as in manifest.json
    config: dict[str, Any]


@dataclass(frozen=True)
class SynthApp:
    directory: Path
    stacks: dict[str, SynthStack]

    def ordered(self, names: list[str]) -> list[SynthStack]:
        """The named stacks, each after the stacks it depends on."""
        order: list[str] = []

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in order:
                return
            if name in trail:
                raise LocalRunError(f"the stacks depend on each other in a cycle: {' -> '.join(trail + (name,))}")
            for dependency in self.stacks[name].dependencies:
                if dependency in self.stacks:
                    visit(dependency, trail + (name,))
            order.append(name)

        for name in names:
            visit(name, ())
        wanted = set(names)
        return [self.stacks[name] for name in order if name in wanted]


def read_app(directory: Path) -> SynthApp:
    """A synthesized app: ``manifest.json`` and each stack's ``cdk.tf.json``."""
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--from {directory}: no manifest.json there; give the directory cdktf synth wrote (cdktf.out)") from None
    except ValueError as error:
        raise LocalRunError(f"{manifest_path}: not JSON: {error}") from None
    stacks: dict[str, SynthStack] = {}
    for name, entry in manifest.get("stacks", {}).items():
        path = directory / entry["synthesizedStackPath"]
        try:
            config = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise LocalRunError(f"stack {name}: cannot read {path}: {error}") from None
        stacks[name] = SynthStack(
            name=name,
            dependencies=tuple(entry.get("dependencies", ())),
            working_directory=entry.get("workingDirectory", f"stacks/{name}"),
            config=config,
        )
    if not stacks:
        raise LocalRunError(f"{manifest_path}: no stacks")
    return SynthApp(directory, stacks)


KEY_FILE = ".ipython-k8s-synth-key"
NOTES_FILE = ".ipython-k8s-synth-notes"
KEY_SOURCES = ("infra", "constructs/ipython_k8s")
KEY_FILES = ("cdktf.json", "Pipfile.lock")
KEY_VARIABLES = ("IPYTHON_", "KUBE", "CDKTF_", "TF_VAR_")


def synth_key(project: Path, environ: Mapping[str, str]) -> str:
    """What the app's output depends on (see the module's docstring), hashed."""
    digest = hashlib.sha256(sys.version.encode())
    files = [project / name for name in KEY_FILES]
    for directory in KEY_SOURCES:
        files += sorted(path for path in (project / directory).rglob("*.py") if "__pycache__" not in path.parts)
    for path in files:
        digest.update(str(path.relative_to(project)).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
    for name in sorted(environ):
        if name.startswith(KEY_VARIABLES) and name != "CDKTF_OUTDIR":
            digest.update(f"{name}={environ[name]}\0".encode())
    return digest.hexdigest()


def reusable(outdir: Path, key: str) -> bool:
    """The output in ``outdir`` was made with ``key`` and is complete."""
    try:
        return (outdir / KEY_FILE).read_text() == key and (outdir / "manifest.json").is_file()
    except OSError:
        return False


def synthesize(project: Path, outdir: Path, environ: Mapping[str, str], *, reuse: bool = True) -> SynthApp:
    """Run the project's cdktf app into ``outdir`` (or reuse its output when its inputs did not
    change and ``reuse``); a parameter error is a UsageError."""
    app = project / "infra" / "main.py"
    if not app.exists():
        raise UsageError(f"project {project}: no infra/main.py to synthesize; give --from DIR (a cdktf.out)")
    key = synth_key(project, environ)
    if reuse and reusable(outdir, key):
        notes = outdir / NOTES_FILE
        for line in notes.read_text().splitlines() if notes.is_file() else []:
            print(line, file=sys.stderr)
        return read_app(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / KEY_FILE).unlink(missing_ok=True)
    for old in outdir.glob("stacks/*/cdk.tf.json"):
        old.unlink()
    env = dict(environ)
    env["CDKTF_OUTDIR"] = str(outdir)
    env.setdefault("CHECKPOINT_DISABLE", "1")
    env.setdefault("DISABLE_VERSION_CHECK", "true")
    env.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    try:
        completed = subprocess.run(
            [sys.executable, str(app)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=SYNTH_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise LocalRunError(f"synthesizing took more than {SYNTH_TIMEOUT_SECONDS} s (python infra/main.py)") from None
    messages = [line for line in completed.stderr.splitlines() if line.startswith(("error:", "note:"))]
    if completed.returncode == 2 and messages:
        raise UsageError(messages[-1].removeprefix("error: "))
    if completed.returncode != 0:
        tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
        raise LocalRunError(f"synthesizing failed (python infra/main.py, exit {completed.returncode}):\n{tail}")
    notes = [line for line in messages if line.startswith("note:")]
    for line in notes:
        print(line, file=sys.stderr)
    synthesized = read_app(outdir)
    (outdir / NOTES_FILE).write_text("".join(f"{line}\n" for line in notes))
    (outdir / KEY_FILE).write_text(key)  # last: only a complete output is ever reused
    return synthesized
