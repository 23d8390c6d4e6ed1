"""Teardown: a prod stack armed for `pulumi destroy` says so on every preview and update.

`steadystate:teardown.allowDataLoss` turns deletion protection off on the load balancers and the
database, and lets `pulumi destroy` delete the image repository and the log buckets with their
contents, and tags the load balancers and the database `Teardown=armed`. The deletion-protection
policies accept a protection that is off only on a resource carrying that tag; this policy reports
every such resource.

Advisory, not mandatory: arming is the documented first step of tearing prod down (set the
setting, `pulumi up`, then `pulumi destroy`), and a mandatory refusal would block that `up`. What
users need is that an armed prod is never quiet: every preview and `up` prints this, and the tag
shows in the console.
"""

from __future__ import annotations

from .aws_types import LOAD_BALANCERS, RDS_INSTANCE
from .framework import ADVISORY, ResourceCheck, resource_rule
from .limits import TEARDOWN_ARMED, TEARDOWN_TAG, is_armed_for_teardown
from .properties import is_unknown


@resource_rule(
    "teardown-armed",
    types=[*LOAD_BALANCERS, RDS_INSTANCE],
    level=ADVISORY,
    prod_only=True,
    description=(
        f"Reports every load balancer and database tagged {TEARDOWN_TAG}={TEARDOWN_ARMED}: the "
        "stack is armed for `pulumi destroy` (steadystate:teardown.allowDataLoss), its deletion "
        "protection is off and its log buckets and image repository go with their contents. "
        "Prod-only; advisory even in prod, because arming is the documented first step of a "
        "teardown and a refusal would block it."
    ),
)
def teardown_armed(check: ResourceCheck) -> None:
    tags = check.tags
    if is_unknown(tags):
        check.note("tags are unknown during preview")
        return
    if is_armed_for_teardown(tags):
        check.violation(
            "the stack is armed for teardown: deletion protection is off and `pulumi destroy` "
            "deletes the access logs and images with it (the database leaves its final snapshot)",
            "unless you are tearing the stack down now, set steadystate:teardown.allowDataLoss "
            "to false and run `pulumi up`",
        )


POLICIES = [teardown_armed]
