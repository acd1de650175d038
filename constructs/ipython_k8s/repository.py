"""The notebook repository of a viewer or a cluster, and the credentials its URL may carry.

WHY a Secret and a variable: a URL such as ``https://TOKEN@host/notebooks.git`` or
``https://user:password@host/...`` holds a credential, and whatever a construct receives as a
literal string ends up in ``cdk.tf.json`` (and in the pod spec as a plain ``env`` value that
``kubectl get deployment -o yaml`` shows to anyone who may read Deployments). So:

- a URL **without** credentials stays a plain ``IPYTHON_NOTEBOOK_REPOSITORY`` value, as before;
- a literal URL **with** credentials is refused: pass a Terraform token instead, normally
  ``repository_variable(stack).string_value``, a *sensitive variable* whose value Terraform
  reads at plan/apply time (``TF_VAR_notebook_repository``), never from the synthesized files;
- a token is put into the Secret ``<name>-repo`` (key ``url``) and reaches the container by
  ``value_from.secret_key_ref``, like the password and the cluster key.

Inside the pod the image keeps the credentials away from git's command line, the clone's
``.git/config``, its logs and the environment of kernels and engine tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from constructs import Construct

from . import validation
from .objects import secret
from .workload import Env

if TYPE_CHECKING:
    from cdktf import TerraformVariable

VARIABLE = "IPYTHON_NOTEBOOK_REPOSITORY"
#: The key under which the repository Secret holds the URL.
REPOSITORY_SECRET_KEY = "url"
LITERAL_WITH_CREDENTIALS = (
    "a URL without user name or password, or a Terraform token such as "
    "repository_variable(stack).string_value when it carries credentials "
    "(a literal would be written into cdk.tf.json)"
)


def check_repository_prop(prop: str, value: Any) -> None:
    """``None``, a Terraform token, or a literal URL the image accepts that has no credentials."""
    if value is None or validation.is_token(value):
        return
    validation.repository_url(prop, value)
    if validation.repository_has_credentials(value):
        raise validation.InvalidValue(
            prop,
            validation.redacted_repository(value),
            LITERAL_WITH_CREDENTIALS,
            shown=validation.shown_repository(value),
        )


def repository_env(
    scope: Construct,
    id: str,
    value: str | None,
    *,
    secret_name: str,
    namespace: str,
    labels: dict[str, str],
) -> list[Env]:
    """The container's IPYTHON_NOTEBOOK_REPOSITORY: none, a plain value, or (for a token) a
    reference to the Secret ``secret_name`` that this creates under ``id``."""
    if not value:
        return []
    if not validation.is_token(value):
        return [Env(VARIABLE, value)]
    secret(
        scope,
        id,
        name=secret_name,
        namespace=namespace,
        labels=labels,
        data={REPOSITORY_SECRET_KEY: value},
    )
    return [Env(VARIABLE, secret=secret_name, key=REPOSITORY_SECRET_KEY)]


def repository_variable(
    scope: Construct, id: str = "notebook_repository", *, check_value: str | None = None
) -> TerraformVariable:
    """A sensitive string variable for a repository URL with credentials; pass ``.string_value``
    as ``notebook_repository`` to a viewer or a cluster.

    Its value comes at plan/apply time from ``TF_VAR_<id>`` (or ``-var``), never from the
    synthesized files. Terraform refuses an empty value or one longer than 2048 characters;
    ``check_value``, if you have the value at synth time (e.g. from the environment), is checked
    now against all the image's rules and then forgotten.
    """
    from cdktf import TerraformVariable

    validation.terraform_identifier("id", id)
    if check_value is not None:
        validation.repository_url(id, check_value)
    variable = TerraformVariable(
        scope,
        id,
        type="string",
        sensitive=True,
        nullable=False,
        description=f"The notebook repository URL with its credentials (give it as TF_VAR_{id}), "
        "e.g. https://TOKEN@host/notebooks.git#main.",
    )
    # The Terraform name is the id wherever the variable sits, so TF_VAR_<id> is what users set.
    variable.override_logical_id(id)
    maximum = validation.MAX_REPOSITORY_LENGTH
    variable.add_validation(
        condition=f"${{length(var.{id}) > 0 && length(var.{id}) <= {maximum}}}",
        error_message=f"The repository URL must have 1 to {maximum} characters.",
    )
    return variable
