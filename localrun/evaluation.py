"""Evaluating one synthesized stack as ``terraform apply`` would: every value known.

WHY: the containers must get exactly what the Terraform declares, and the declarations are
full of references: ``${random_password.x.result}`` in a Secret, ``${var.user_password}``,
locals, outputs and, across stacks, ``${data.terraform_remote_state.<x>.outputs.<y>}``. Each
resource is evaluated on demand (memoized, cycles reported), random resources get their
values from the state or, the first time, from ``randoms``, and a remote state is answered by
evaluating the stack whose backend writes that state file (:meth:`AppEvaluation.remote_outputs`).
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable, Mapping
from typing import Any

from . import randoms
from .errors import LocalRunError, UsageError
from .expressions import ExpressionError, Number, Resolved, evaluate_string, evaluate_value
from .objects import block
from .state import State
from .synth import SynthApp, SynthStack

#: Keys of a resource block that are Terraform meta-arguments, not the resource's attributes.
META_ARGUMENTS = ("//", "depends_on", "lifecycle", "provider", "provisioner", "connection")
UNSUPPORTED_META = ("count", "for_each")

RemoteOutputs = Callable[[str, str, Mapping[str, Any], str], dict[str, Any]]


def resource_attributes(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in META_ARGUMENTS}


def construct_path(body: Mapping[str, Any]) -> str | None:
    return body.get("//", {}).get("metadata", {}).get("path")


class StackEvaluator:
    """The values of one stack in one workspace."""

    def __init__(
        self,
        stack: SynthStack,
        *,
        workspace: str,
        state: State,
        variables: Mapping[str, str],
        remote_outputs: RemoteOutputs,
    ):
        self.stack = stack
        self.workspace = workspace
        self.state = state
        self.variables_env = variables
        self.remote_outputs = remote_outputs
        self.config = stack.config
        self._resources: dict[tuple[str, str], dict[str, Any]] = {}
        self._data: dict[tuple[str, str], dict[str, Any]] = {}
        self._variables: dict[str, Any] = {}
        self._locals: dict[str, Any] = {}
        self._resolving: list[str] = []

    # -- the scope the expressions see --------------------------------------------------------
    def resolve(self, root: str, traversal: list[str | int]) -> Resolved:
        if root == "var":
            return Resolved(self.variable(self._name(root, traversal)), 1)
        if root == "local":
            return Resolved(self.local(self._name(root, traversal)), 1)
        if root == "terraform":
            if traversal[:1] == ["workspace"]:
                return Resolved(self.workspace, 1)
            raise ExpressionError(f"terraform.{traversal[0] if traversal else ''} is not known locally")
        if root == "path":
            if traversal[:1] in (["module"], ["root"], ["cwd"]):
                return Resolved(".", 1)
            raise ExpressionError(f"path.{traversal[0] if traversal else ''} is not known locally")
        if root == "data":
            if len(traversal) < 2:
                raise ExpressionError("a data source reference needs a type and a name")
            return Resolved(self.data_source(str(traversal[0]), str(traversal[1])), 2)
        if root in ("self", "count", "each"):
            raise ExpressionError(f"{root}.* is not supported locally (count, for_each and provisioners are not run)")
        if not traversal:
            raise ExpressionError(f"{root}: a resource reference needs a name")
        return Resolved(self.resource(root, str(traversal[0])), 1)

    @staticmethod
    def _name(root: str, traversal: list[str | int]) -> str:
        if not traversal:
            raise ExpressionError(f"{root}: a name is required")
        return str(traversal[0])

    def _guard(self, address: str) -> None:
        if address in self._resolving:
            cycle = " -> ".join(self._resolving[self._resolving.index(address):] + [address])
            raise LocalRunError(f"{self.stack.name}: references form a cycle: {cycle}")

    def _evaluate(self, value: Any, address: str) -> Any:
        self._guard(address)
        self._resolving.append(address)
        try:
            return evaluate_value(value, self)
        except ExpressionError as error:
            if str(error).startswith(f"{self.stack.name}: "):
                raise
            raise ExpressionError(f"{self.stack.name}: {address}: {error}") from None
        finally:
            self._resolving.pop()

    # -- variables and locals ------------------------------------------------------------------
    def variable(self, name: str) -> Any:
        if name in self._variables:
            return self._variables[name]
        declaration = self.config.get("variable", {}).get(name)
        if declaration is None:
            raise ExpressionError(f"var.{name} is not declared in {self.stack.name}")
        raw = self.variables_env.get(f"TF_VAR_{name}")
        if raw is not None:
            value = _typed_variable(name, raw, declaration.get("type"))
        elif "default" in declaration:
            value = declaration["default"]
        else:
            hint = ""
            if name == "user_password":
                hint = " (IPYTHON_USER_PASSWORD is read by the synth only; Terraform, and the local run, read TF_VAR_user_password)"
            raise UsageError(f"TF_VAR_{name} is unset: {self.stack.name} declares the variable {name} without a default{hint}")
        if value is None and declaration.get("nullable") is False:
            raise UsageError(f"TF_VAR_{name}: variable {name} must not be null")
        self._variables[name] = value
        for rule in declaration.get("validation", []):
            condition = rule.get("condition")
            if condition is None:
                continue
            if not self._evaluate(condition, f"var.{name} validation"):
                shown = "<hidden: sensitive>" if declaration.get("sensitive") else str(raw if raw is not None else value)
                raise UsageError(f"TF_VAR_{name}={shown}: {rule.get('error_message', 'the validation failed')}")
        return value

    def local(self, name: str) -> Any:
        if name not in self._locals:
            declared = self.config.get("locals", {})
            if name not in declared:
                raise ExpressionError(f"local.{name} is not declared in {self.stack.name}")
            self._locals[name] = self._evaluate(declared[name], f"local.{name}")
        return self._locals[name]

    # -- resources -----------------------------------------------------------------------------
    def resource(self, resource_type: str, name: str) -> dict[str, Any]:
        key = (resource_type, name)
        if key in self._resources:
            return self._resources[key]
        body = self.config.get("resource", {}).get(resource_type, {}).get(name)
        address = f"{resource_type}.{name}"
        if body is None:
            raise ExpressionError(f"{address} is not declared in {self.stack.name}")
        for meta in UNSUPPORTED_META:
            if meta in body:
                raise LocalRunError(f"{self.stack.name}: {address} uses {meta}, which the local run does not expand")
        attributes = self._evaluate(resource_attributes(body), address)
        if resource_type in randoms.GENERATORS:
            attributes.update(self._random(resource_type, address, attributes))
        elif resource_type.startswith("kubernetes_"):
            metadata = block(attributes.get("metadata"))
            if metadata:
                attributes.setdefault("id", f"{metadata.get('namespace', 'default')}/{metadata.get('name')}")
        self._resources[key] = attributes
        return attributes

    def _random(self, resource_type: str, address: str, attributes: dict[str, Any]) -> dict[str, Any]:
        config = json.loads(json.dumps(attributes, sort_keys=True))
        values = self.state.random_values(self.workspace, self.stack.name, address, config)
        if values is None:
            values = randoms.generate(resource_type, config, address=f"{self.stack.name}: {address}")
            self.state.set_random_values(self.workspace, self.stack.name, address, config, values)
        return values

    def resources(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every resource of the stack, evaluated, in declaration order."""
        for resource_type, named in self.config.get("resource", {}).items():
            for name in named:
                self.resource(resource_type, name)
        return {
            (t, n): self._resources[(t, n)]
            for t, named in self.config.get("resource", {}).items()
            for n in named
        }

    def construct_paths(self) -> dict[tuple[str, str], str]:
        return {
            (t, n): construct_path(body) or f"{t}.{n}"
            for t, named in self.config.get("resource", {}).items()
            for n, body in named.items()
        }

    # -- data sources --------------------------------------------------------------------------
    def data_source(self, data_type: str, name: str) -> dict[str, Any]:
        key = (data_type, name)
        if key in self._data:
            return self._data[key]
        body = self.config.get("data", {}).get(data_type, {}).get(name)
        address = f"data.{data_type}.{name}"
        if body is None:
            raise ExpressionError(f"{address} is not declared in {self.stack.name}")
        if data_type != "terraform_remote_state":
            raise LocalRunError(
                f"{self.stack.name}: {address}: data sources of type {data_type} cannot be read locally "
                f"(only terraform_remote_state, which is answered from the other stack)"
            )
        attributes = self._evaluate(resource_attributes(body), address)
        backend = attributes.get("backend", "local")
        config = block(attributes.get("config")) or {}
        workspace = attributes.get("workspace") or "default"
        outputs = dict(block(attributes.get("defaults")) or {})
        outputs.update(self.remote_outputs(self.stack.name, backend, config, workspace))
        attributes["outputs"] = outputs
        self._data[key] = attributes
        return attributes

    # -- outputs -------------------------------------------------------------------------------
    def outputs(self) -> dict[str, Any]:
        return {
            name: self._evaluate(body.get("value"), f"output.{name}")
            for name, body in self.config.get("output", {}).items()
        }

    def sensitive_outputs(self) -> set[str]:
        return {name for name, body in self.config.get("output", {}).items() if body.get("sensitive")}

    def state_path(self) -> str:
        """Where this stack's backend keeps its state, relative to the synth output directory."""
        backend = self.config.get("terraform", {}).get("backend", {})
        if not backend:
            return posixpath.normpath(posixpath.join(self.stack.working_directory, "terraform.tfstate"))
        kind, config = next(iter(backend.items()))
        if kind != "local":
            return f"{kind}:{json.dumps(config, sort_keys=True)}"
        return posixpath.normpath(posixpath.join(self.stack.working_directory, config.get("path", "terraform.tfstate")))


class AppEvaluation:
    """The evaluators of one app, per (stack, workspace), answering each other's remote state."""

    def __init__(self, app: SynthApp, *, state: State, variables: Mapping[str, str]):
        self.app = app
        self.state = state
        self.variables = variables
        self._evaluators: dict[tuple[str, str], StackEvaluator] = {}

    def evaluator(self, stack: str, workspace: str) -> StackEvaluator:
        key = (stack, workspace)
        if key not in self._evaluators:
            self._evaluators[key] = StackEvaluator(
                self.app.stacks[stack], workspace=workspace, state=self.state, variables=self.variables,
                remote_outputs=self.remote_outputs,
            )
        return self._evaluators[key]

    def remote_outputs(self, source: str, backend: str, config: Mapping[str, Any], workspace: str) -> dict[str, Any]:
        """A terraform_remote_state answered by evaluating the stack that writes that state."""
        wanted = remote_state_path(self.app.stacks[source], backend, config)
        for name in self.app.stacks:
            if name != source and self.evaluator(name, workspace).state_path() == wanted:
                return self.evaluator(name, workspace).outputs()
        raise LocalRunError(
            f"{source}: terraform_remote_state reads {wanted}, which no stack of this app writes; "
            f"the local run can only answer remote states of stacks in the same app"
        )


def remote_state_path(stack: SynthStack, backend: str, config: Mapping[str, Any]) -> str:
    """The state a ``terraform_remote_state`` of ``stack`` reads, in ``state_path()`` terms."""
    if backend != "local":
        return f"{backend}:{json.dumps(dict(config), sort_keys=True)}"
    path = config.get("path", "terraform.tfstate")
    if os.path.isabs(path):
        return posixpath.normpath(path)
    return posixpath.normpath(posixpath.join(stack.working_directory, path))


def _typed_variable(name: str, raw: str, declared_type: Any) -> Any:
    kind = declared_type if isinstance(declared_type, str) else "string"
    if kind in ("string", "any", None):
        return raw
    if kind == "number":
        if Number.parse(raw) is None:  # Terraform's parse: no spaces, "inf" or "nan"
            raise UsageError(f"TF_VAR_{name}={raw}: a number is required")
        number = float(raw)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "bool":
        if raw not in ("true", "false"):
            raise UsageError(f"TF_VAR_{name}={raw}: true or false is required")
        return raw == "true"
    try:
        return json.loads(raw)
    except ValueError:
        raise UsageError(f"TF_VAR_{name}: a JSON value of type {kind} is required") from None


__all__ = ["AppEvaluation", "StackEvaluator", "remote_state_path", "resource_attributes", "evaluate_string"]
