"""A password the user chose, which never enters a synthesized file.

WHY a variable for a chosen password: whatever a construct receives as a literal string ends up
in ``cdk.tf.json``. A password the user chooses therefore reaches Terraform as a *sensitive
variable* whose value is given at plan/apply time (``TF_VAR_<name>``); the constructs refuse a
literal password. Generated passwords are ``random_password`` resources (see ``generated``).
"""

from __future__ import annotations

from cdktf import TerraformVariable

from constructs import Construct

from . import validation
from .defaults import MIN_USER_PASSWORD_LENGTH


def check_user_password(prop: str, value: object) -> str:
    """A chosen password of at least 8 characters; the error shows its length, never its text."""
    return validation.user_password(prop, value, min_length=MIN_USER_PASSWORD_LENGTH)


def password_variable(
    scope: Construct, id: str = "user_password", *, check_value: str | None = None
) -> TerraformVariable:
    """A sensitive string variable for a password the user chose; pass ``.string_value`` to a viewer.

    Its value comes at plan/apply time from ``TF_VAR_<id>`` (or ``-var``), never from the
    synthesized files. Terraform refuses values shorter than 8 characters; ``check_value``, if you
    have the value at synth time (e.g. from the environment), is checked now as well and then
    forgotten.
    """
    validation.terraform_identifier("id", id)
    if check_value is not None:
        check_user_password(id, check_value)
    variable = TerraformVariable(
        scope,
        id,
        type="string",
        sensitive=True,
        nullable=False,
        description=f"The viewer password you chose (give it as TF_VAR_{id}); at least "
        f"{MIN_USER_PASSWORD_LENGTH} characters.",
    )
    # The Terraform name is the id wherever the variable sits, so TF_VAR_<id> is what users set.
    variable.override_logical_id(id)
    variable.add_validation(
        condition=f"${{length(var.{id}) >= {MIN_USER_PASSWORD_LENGTH}}}",
        error_message=f"The password must have at least {MIN_USER_PASSWORD_LENGTH} characters.",
    )
    return variable
