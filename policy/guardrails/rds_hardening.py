"""RDS hardening beyond :mod:`.rds`: forced TLS through the parameter group, minor-version
patching, logs, snapshot tags, a non-default admin name, and placement in isolated subnets (the
stack rule follows subnet group -> subnets -> route tables -> routes)."""

from __future__ import annotations

from typing import Any

from .aws_types import (
    DEFAULT_ROUTE_TABLE,
    INTERNET_GATEWAY,
    MAIN_ROUTE_TABLE_ASSOCIATION,
    NAT_GATEWAY,
    RDS_INSTANCE,
    RDS_PARAMETER_GROUP,
    RDS_SUBNET_GROUP,
    ROUTE,
    ROUTE_TABLE,
    ROUTE_TABLE_ASSOCIATION,
    SUBNET,
)
from .framework import (
    MANDATORY,
    ResourceCheck,
    StackCheck,
    StackResource,
    resource_rule,
    stack_rule,
)
from .properties import Unknown, fmt, get, is_set, is_unknown

DEFAULT_ADMIN_USERNAMES = ("admin", "administrator", "postgres", "root", "sa", "master", "rdsadmin")

TLS_PARAMETERS = {
    "postgres": ("rds.force_ssl", ("1",)),
    "sqlserver": ("rds.force_ssl", ("1",)),
    "mysql": ("require_secure_transport", ("1", "ON")),
    "mariadb": ("require_secure_transport", ("1", "ON")),
}
"""Engine family -> (parameter that forces TLS, values that turn it on)."""

LOG_EXPORTS = {
    "postgres": "postgresql",
    "mysql": "error",
    "mariadb": "error",
    "sqlserver": "error",
    "oracle": "alert",
}
"""Engine family -> the log every instance of it must export to CloudWatch Logs."""


def _family(engine: Any) -> str | None:
    if not isinstance(engine, str):
        return None
    engine = engine.lower()
    if engine.startswith("aurora"):
        return None  # cluster parameters; instances of a cluster are judged with the cluster
    for family in ("postgres", "mysql", "mariadb", "sqlserver", "oracle"):
        if engine.startswith(family):
            return family
    return None


@resource_rule(
    "rds-auto-minor-version-upgrade",
    types=RDS_INSTANCE,
    level=MANDATORY,
    description=(
        "RDS instances take automatic minor version upgrades in the maintenance window (FSBP "
        "RDS.13, CKV_AWS_226). Mandatory: minor versions carry the engine's security fixes."
    ),
)
def rds_auto_minor_version_upgrade(check: ResourceCheck) -> None:
    if check.known("autoMinorVersionUpgrade", True) is False:
        check.violation(
            "autoMinorVersionUpgrade is false",
            "set autoMinorVersionUpgrade=true (and a maintenanceWindow that suits the service)",
        )


@resource_rule(
    "rds-log-exports",
    types=RDS_INSTANCE,
    level=MANDATORY,
    description=(
        "RDS instances export their engine's main log to CloudWatch Logs (postgresql for "
        "PostgreSQL, error for MySQL/MariaDB/SQL Server, alert for Oracle) (FSBP RDS.9/RDS.36, "
        "CKV_AWS_129). Mandatory: connection failures, TLS refusals and crashes are only "
        "visible there."
    ),
)
def rds_log_exports(check: ResourceCheck) -> None:
    family = _family(check.known("engine"))
    if family is None:
        return
    exports = check.known("enabledCloudwatchLogsExports", []) or []
    wanted = LOG_EXPORTS[family]
    if wanted not in exports:
        check.violation(
            f"enabledCloudwatchLogsExports is {fmt(exports) if exports else 'empty'}, "
            f"without {fmt(wanted)}",
            f'set enabledCloudwatchLogsExports=["{wanted}"] (plus others as needed)',
        )


@resource_rule(
    "rds-copy-tags-to-snapshots",
    types=RDS_INSTANCE,
    level=MANDATORY,
    description=(
        "RDS instances copy their tags to snapshots (FSBP RDS.17). Mandatory: untagged "
        "snapshots lose their owner, stack and cost allocation, and tag-based access "
        "policies stop applying to them."
    ),
)
def rds_copy_tags_to_snapshots(check: ResourceCheck) -> None:
    if check.known("copyTagsToSnapshot", False) is not True:
        check.violation("copyTagsToSnapshot is not true", "set copyTagsToSnapshot=true")


@resource_rule(
    "rds-custom-admin-username",
    types=RDS_INSTANCE,
    level=MANDATORY,
    config={
        "forbiddenUsernames": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(DEFAULT_ADMIN_USERNAMES),
            "description": "Master user names that are engine defaults or guessed first.",
        }
    },
    description=(
        "The RDS master user name is not an engine default such as postgres or admin (FSBP "
        "RDS.25). Mandatory: a default name halves a password-guessing attack."
    ),
)
def rds_custom_admin_username(check: ResourceCheck) -> None:
    if any(
        is_set(check.get(key))
        for key in ("replicateSourceDb", "snapshotIdentifier", "restoreToPointInTime")
    ):
        return  # the user name comes from the source
    username = check.known("username")
    forbidden = {u.lower() for u in check.config["forbiddenUsernames"]}
    if isinstance(username, str) and username.lower() in forbidden:
        check.violation(
            f"username is {fmt(username)}, a default administrator name",
            'set username to a name of your own, e.g. "app_admin"',
        )


@resource_rule(
    "rds-enhanced-monitoring",
    types=RDS_INSTANCE,
    level=MANDATORY,
    config={
        "maximumIntervalSeconds": {
            "type": "integer",
            "enum": [1, 5, 10, 15, 30, 60],
            "default": 60,
            "description": "Coarsest Enhanced Monitoring interval accepted, in seconds.",
        }
    },
    description=(
        "RDS instances run Enhanced Monitoring (monitoringInterval 1-60 s, default at most 60, "
        "with a monitoringRoleArn) (FSBP RDS.6, CKV_AWS_118). Mandatory: CPU steal, memory "
        "pressure and per-process load of the database host are visible nowhere else."
    ),
)
def rds_enhanced_monitoring(check: ResourceCheck) -> None:
    maximum = check.config["maximumIntervalSeconds"]
    interval = check.known("monitoringInterval", 0) or 0
    fix = (
        f"set monitoringInterval={maximum} (or finer) and monitoringRoleArn to a role that "
        "monitoring.rds.amazonaws.com assumes, with the AmazonRDSEnhancedMonitoringRole policy"
    )
    if not isinstance(interval, int | float) or not 0 < interval <= maximum:
        check.violation(f"monitoringInterval is {fmt(interval)} (0 means off)", fix)
    elif not is_set(check.get("monitoringRoleArn")):
        check.violation("monitoringRoleArn is unset, so RDS cannot publish the metrics", fix)


def _find(
    check: StackCheck,
    candidates: list[StackResource],
    source: StackResource,
    prop: str,
    *target_props: str,
) -> tuple[list[StackResource], bool]:
    """The candidates ``source.prop`` points at, and whether the answer is complete."""
    links = [(c, check.refers_to(source, prop, c, *target_props)) for c in candidates]
    return [c for c, linked in links if linked], not any(linked is None for _, linked in links)


def _tls_engine(instance: StackResource) -> tuple[str, str, tuple[str, ...]] | None:
    family = _family(instance.get("engine"))
    if family is None or family not in TLS_PARAMETERS:
        return None
    name, values = TLS_PARAMETERS[family]
    return family, name, values


@stack_rule(
    "rds-force-tls",
    level=MANDATORY,
    description=(
        "Every RDS instance uses a parameter group of this stack that forces TLS: rds.force_ssl=1 "
        "(PostgreSQL, SQL Server) or require_secure_transport=ON (MySQL, MariaDB) (CKV2_AWS_69). "
        "Mandatory: otherwise a client that does not ask for TLS sends the password and data in "
        "the clear, and publiclyAccessible=false does not change that inside the VPC."
    ),
)
def rds_force_tls(check: StackCheck) -> None:
    groups = check.of_type(RDS_PARAMETER_GROUP)
    for instance in check.of_type(RDS_INSTANCE):
        if is_unknown(instance.get("engine")):
            check.note(f"the engine of {instance.label()} is unknown during preview")
            continue
        engine = _tls_engine(instance)
        if engine is None:
            continue
        _, parameter, values = engine
        fix = (
            f"set parameterGroupName to an aws:rds/parameterGroup with parameters=[{{name: "
            f'"{parameter}", value: "{values[0]}"}}]'
        )
        if not is_set(instance.get("parameterGroupName")):
            check.violation(
                instance,
                "it uses the engine's default parameter group, which may not force TLS",
                fix,
            )
            continue
        found, complete = _find(check, groups, instance, "parameterGroupName", "name", "id")
        if not found:
            if complete and not is_unknown(instance.get("parameterGroupName")):
                check.note(
                    f"the parameter group of {instance.label()} is not defined in this stack"
                )
            else:
                check.note(f"the parameter group of {instance.label()} is unknown during preview")
            continue
        group = found[0]
        parameters = group.get("parameters", [])
        if is_unknown(parameters):
            check.note(f"the parameters of {group.label()} are unknown during preview")
            continue
        value = next((get(p, "value") for p in parameters if get(p, "name") == parameter), None)
        if is_unknown(value):
            check.note(f"{parameter} of {group.label()} is unknown during preview")
        elif str(value).upper() not in values:
            check.violation(
                instance,
                f'its parameter group "{group.name}" sets {parameter}='
                f"{fmt(value) if value is not None else '(unset)'}",
                fix,
            )


def _is_internet_route(route: dict[str, Any] | StackResource, gateways: set[str]) -> bool | None:
    """True for a route to an internet or NAT gateway (or egress-only gateway); None if unknown."""
    getter = route.get
    targets = {
        "gatewayId": getter("gatewayId"),
        "natGatewayId": getter("natGatewayId"),
        "egressOnlyGatewayId": getter("egressOnlyGatewayId"),
    }
    if any(is_unknown(v) for v in targets.values()):
        return None
    gateway = targets["gatewayId"]
    if isinstance(gateway, str) and (gateway.startswith("igw-") or gateway in gateways):
        return True
    return is_set(targets["natGatewayId"]) or is_set(targets["egressOnlyGatewayId"])


def _points_at(
    check: StackCheck, source: StackResource, prop: str, target: StackResource, *props: str
) -> bool | None:
    """Like ``check.refers_to``, but an unknown value whose property dependencies name other
    resources only is known not to point at ``target`` (how a preview still shows the links)."""
    linked = check.refers_to(source, prop, target, *props)
    if linked is None and source.depends_on(prop) and target.urn not in source.depends_on(prop):
        return False
    return linked


def _table_routes(check: StackCheck, table: StackResource) -> list[Any]:
    """Inline routes of ``table`` plus aws:ec2/route resources pointing at it."""
    routes = table.get("routes") or table.get("route") or []
    found: list[Any] = list(routes) if isinstance(routes, list) else [routes]
    for route in check.of_type(ROUTE):
        linked = _points_at(check, route, "routeTableId", table, "id")
        if linked:
            found.append(route)
        elif linked is None:
            found.append(Unknown("route"))
    return found


def _route_via_dependency(route: Any, gateway_urns: set[str]) -> bool:
    if isinstance(route, StackResource):
        return any(
            u in gateway_urns for p in ("gatewayId", "natGatewayId") for u in route.depends_on(p)
        )
    return False


def _subnet_exposure(
    check: StackCheck, subnet: StackResource, gateways: set[str], gateway_urns: set[str]
) -> str | Unknown | None:
    """Why ``subnet`` reaches the internet (a phrase), None when isolated, Unknown if unknown."""
    associations = [
        a
        for a in check.of_type(ROUTE_TABLE_ASSOCIATION)
        if _points_at(check, a, "subnetId", subnet, "id")
    ]
    tables: list[StackResource] = []
    for association in associations:
        linked = [
            t
            for t in check.of_type(ROUTE_TABLE)
            if _points_at(check, association, "routeTableId", t, "id")
        ]
        if not linked:
            return Unknown("route table")
        tables.extend(linked)
    if not associations:
        mains = [
            t
            for t in check.of_type(ROUTE_TABLE, DEFAULT_ROUTE_TABLE)
            if t.type == DEFAULT_ROUTE_TABLE
            or any(
                check.refers_to(m, "routeTableId", t, "id")
                for m in check.of_type(MAIN_ROUTE_TABLE_ASSOCIATION)
            )
        ]
        if not mains:
            return None  # the VPC's own main route table: local routes only until changed
        tables = mains
    for table in tables:
        for route in _table_routes(check, table):
            if isinstance(route, Unknown):
                return route
            if _route_via_dependency(route, gateway_urns):
                return f"route table {table.name} routes to an internet or NAT gateway"
            verdict = _is_internet_route(route, gateways)
            if verdict is None:
                return Unknown("route")
            if verdict:
                destination = route.get("destinationCidrBlock") or route.get("cidrBlock")
                return (
                    f"route table {table.name} sends {destination or 'traffic'} to an internet "
                    "or NAT gateway"
                )
    return None


@stack_rule(
    "rds-isolated-subnets",
    level=MANDATORY,
    description=(
        "Every RDS instance sits in a DB subnet group of this stack whose subnets have no route "
        "to an internet gateway or NAT gateway (followed through route table associations, "
        "route tables and routes; a subnet without an association uses the main route table). "
        "Mandatory: 'private' must mean placement, not only publiclyAccessible=false; a "
        "database in a routed subnet is one flag or one security-group rule away from the "
        "internet, and can send data out."
    ),
)
def rds_isolated_subnets(check: StackCheck) -> None:
    subnet_groups = check.of_type(RDS_SUBNET_GROUP)
    subnets = check.of_type(SUBNET)
    gateways = {
        g.get("id")
        for g in check.of_type(INTERNET_GATEWAY, NAT_GATEWAY)
        if isinstance(g.get("id"), str)
    }
    gateway_urns = {g.urn for g in check.of_type(INTERNET_GATEWAY, NAT_GATEWAY)}
    fix = (
        "set dbSubnetGroupName to an aws:rds/subnetGroup whose subnetIds are isolated subnets "
        "(their route table has only the local route, no 0.0.0.0/0 to an internet or NAT gateway)"
    )
    for instance in check.of_type(RDS_INSTANCE):
        if is_set(get(instance.props, "replicateSourceDb")) and not is_set(
            instance.get("dbSubnetGroupName")
        ):
            continue  # a same-region replica inherits the source's subnet group
        if not is_set(instance.get("dbSubnetGroupName")):
            check.violation(
                instance,
                "no dbSubnetGroupName, so RDS places it in the default VPC's default (public) "
                "subnets",
                fix,
            )
            continue
        found, complete = _find(check, subnet_groups, instance, "dbSubnetGroupName", "name", "id")
        if not found:
            what = "not defined in this stack" if complete else "unknown during preview"
            check.note(f"the subnet group of {instance.label()} is {what}")
            continue
        group = found[0]
        ids = group.get("subnetIds")
        members = [s for s in subnets if s.urn in group.depends_on("subnetIds")]
        if not members and isinstance(ids, list):
            members = [s for s in subnets if s.get("id") in ids]
        if not members:
            check.note(f"the subnets of {group.label()} are unknown or outside this stack")
            continue
        for subnet in members:
            exposure = _subnet_exposure(check, subnet, gateways, gateway_urns)
            if isinstance(exposure, Unknown):
                check.note(f"the routes of {subnet.label()} are unknown during preview")
            elif exposure:
                check.violation(
                    instance,
                    f'its subnet group "{group.name}" includes subnet "{subnet.name}": {exposure}',
                    fix,
                )


POLICIES = [
    rds_auto_minor_version_upgrade,
    rds_log_exports,
    rds_copy_tags_to_snapshots,
    rds_custom_admin_username,
    rds_enhanced_monitoring,
    rds_force_tls,
    rds_isolated_subnets,
]
