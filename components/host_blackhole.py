"""The SSM Command document behind FIS's ``dependency-<name>`` host cut: on one ECS container
host, drop the traffic of one environment's task containers to a dependency's DNS name.

Blue and green share the cluster's hosts (bridge networking), so neither a network ACL nor a
security group can cut blue alone; iptables rules on each host can, keyed on the source address
of the containers that carry the ECS label ``com.amazonaws.ecs.task-definition-family``.

Which destination? The containers resolve the name themselves (through the VPC resolver) and a
CDN answers each query with addresses of its own choosing, so rules on the addresses the *host*
resolves can miss the one a container connects to — the cut leaks. The script therefore cuts by
name, independently of DNS: iptables' string match drops every TCP packet of those containers
that carries the name as a TLS server name (the SNI entry of the ClientHello, RFC 6066 section
3: name type 0, two-byte length, name — an exact match, not a suffix) or as an HTTP ``Host``
header, whatever its destination. A new connection to the dependency thus never completes its
handshake. The addresses the host resolves are dropped as well, which also cuts connections
that were open before the cut (their later packets carry no name). Blocking all of blue's egress
instead would be DNS-independent too, but it would also cut the prober's own PutMetricData
(CloudWatch has no interface endpoint in this stack), so the alarm would fire for missing data,
not for the dependency. What the name cut cannot see: a client using Encrypted Client Hello or
QUIC (the prober uses neither); a kernel without ``xt_string`` refuses the rule, and the script
then stops before cutting anything (an address-only cut would leak). Whether the cut held is
checked from outside, by the experiment (``chaos.dependency_blackhole.cut_held``).

The script is ``host_blackhole.sh`` next to this module; SSM substitutes each ``{{ Name }}`` with
a parameter value its ``allowedPattern`` admitted (so nothing reaches the shell but family names,
a DNS name and numbers), and the script checks the values again with the same patterns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

SCRIPT = Path(__file__).with_name("host_blackhole.sh")

MAX_DURATION_SECONDS = 43200
"""FIS's limit for an action's ``duration`` (12 hours)."""
MAX_FAMILIES = 20
MAX_HOST_CHARS = 200
"""The rule comment ``steadystate-blackhole-<host>`` must fit iptables' 256 characters."""
RESOLVE_EVERY_SECONDS = 5
"""How often the script re-resolves the host and re-lists the containers (CDN addresses rotate,
ECS replaces tasks)."""
EXECUTION_TIMEOUT_SECONDS = MAX_DURATION_SECONDS + 300

FAMILY = r"[A-Za-z0-9_-]{1,255}"
"""An ECS task definition family: letters, digits, hyphens and underscores, up to 255."""
PATTERNS: dict[str, str] = {
    "Families": rf"^{FAMILY}(,{FAMILY}){{0,{MAX_FAMILIES - 1}}}$",
    "Host": r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
    "DurationSeconds": r"^[1-9][0-9]{0,4}$",
    "ResolveEverySeconds": r"^[1-9][0-9]?$",
}
"""``allowedPattern`` of each document parameter (also in the script, for its own check)."""
MAX_CHARS = {
    "Families": MAX_FAMILIES * 256,
    "Host": MAX_HOST_CHARS,
    "DurationSeconds": 5,
    "ResolveEverySeconds": 2,
}
DESCRIPTIONS = {
    "Families": "Comma-separated ECS task definition families whose containers lose the host",
    "Host": "DNS name of the dependency (cut by TLS server name and HTTP Host, and by the IPv4 "
    "addresses it resolves to on the instance)",
    "DurationSeconds": f"Seconds the cut lasts (1-{MAX_DURATION_SECONDS})",
    "ResolveEverySeconds": "Seconds between re-resolving the host and re-listing the containers",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def script() -> str:
    return SCRIPT.read_text()


def parameter_problem(name: str, value: str) -> str | None:
    """Why SSM (and the script) would refuse ``value`` for parameter ``name``, or None."""
    if len(value) > MAX_CHARS[name]:
        return f"{name} must be at most {MAX_CHARS[name]} characters (got {len(value)})"
    if not re.fullmatch(PATTERNS[name], value):
        return f"{name} must match {PATTERNS[name]} (got {value!r})"
    if name == "DurationSeconds" and int(value) > MAX_DURATION_SECONDS:
        return f"DurationSeconds must be 1-{MAX_DURATION_SECONDS} (got {value})"
    return None


def render(text: str, values: Mapping[str, str]) -> str:
    """What SSM does to the script before running it: ``{{ Name }}`` -> the parameter's value."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def document_content() -> str:
    """The Command document (schema 2.2, one ``aws:runShellScript`` step), as JSON."""
    parameters = {
        name: {
            "type": "String",
            "description": DESCRIPTIONS[name],
            "allowedPattern": pattern,
            "maxChars": MAX_CHARS[name],
        }
        for name, pattern in PATTERNS.items()
    }
    parameters["ResolveEverySeconds"]["default"] = str(RESOLVE_EVERY_SECONDS)
    body = {
        "schemaVersion": "2.2",
        "description": (
            "steadystate chaos: for DurationSeconds, drop the traffic of the containers of the "
            "given ECS task definition families to Host, by name (TLS server name, HTTP Host) "
            "and by address (iptables chain sbh-<hash>, jumped to from DOCKER-USER by a rule "
            "tagged steadystate-blackhole-<Host, dots as _>); the rules go at the end and on "
            "cancel"
        ),
        "parameters": parameters,
        "mainSteps": [
            {
                "action": "aws:runShellScript",
                "name": "blackholeDependency",
                "precondition": {"StringEquals": ["platformType", "Linux"]},
                "inputs": {
                    "timeoutSeconds": str(EXECUTION_TIMEOUT_SECONDS),
                    "runCommand": script().splitlines(),
                },
            }
        ],
    }
    return json.dumps(body, indent=2)


def document_parameters(
    families: Sequence[str], host: str, duration_seconds: int, every: int = RESOLVE_EVERY_SECONDS
) -> str:
    """FIS's ``documentParameters`` (a JSON string of string values), checked like SSM would."""
    values = {
        "Families": ",".join(families),
        "Host": host,
        "DurationSeconds": str(duration_seconds),
        "ResolveEverySeconds": str(every),
    }
    for name, value in values.items():
        problem = parameter_problem(name, value)
        if problem:
            raise ValueError(f"host blackhole document parameter {problem}")
    return json.dumps(values)


def iso_duration_seconds(duration: str) -> int:
    """``PT5M`` -> 300, ``PT90S`` -> 90 (the forms ``ChaosExperimentsArgs.fault_duration`` takes)."""
    match = re.fullmatch(r"PT(?:([0-9]+)M)?(?:([0-9]+)S)?", duration)
    if not match or not any(match.groups()):
        raise ValueError(f"expected an ISO 8601 duration PT<n>M or PT<n>S, got {duration!r}")
    minutes, seconds = (int(g or 0) for g in match.groups())
    return minutes * 60 + seconds
