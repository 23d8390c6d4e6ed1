"""Route 53 query logging: every public hosted zone the stack creates logs its DNS queries."""

from __future__ import annotations

from .aws_types import DNS_QUERY_LOG, DNS_ZONE
from .framework import MANDATORY, StackCheck, stack_rule
from .properties import is_set, is_unknown


@stack_rule(
    "dns-public-zone-query-logging",
    level=MANDATORY,
    description=(
        "Every public aws:route53/zone the stack creates has an aws:route53/queryLog for it "
        "(FSBP Route53.2); private zones (with vpcs) are exempt, Route 53 query logging serves "
        "public zones only. Mandatory: without the query log there is no record "
        "of who resolved which names, the evidence an investigation of DNS abuse starts from."
    ),
)
def dns_public_zone_query_logging(check: StackCheck) -> None:
    query_logs = check.of_type(DNS_QUERY_LOG)
    for zone in check.of_type(DNS_ZONE):
        vpcs = zone.get("vpcs")
        if is_unknown(vpcs):
            check.note(f"whether {zone.label()} is private (its vpcs) is unknown during preview")
            continue
        if is_set(vpcs):
            continue  # a private zone: Route 53 logs only public zones' queries
        links = [check.refers_to(log, "zoneId", zone, "zoneId", "id") for log in query_logs]
        if True in links:
            continue
        if None in links:
            check.note(f"whether a query log belongs to {zone.label()} is unknown during preview")
            continue
        check.violation(
            zone,
            "the public hosted zone logs no DNS queries",
            "add an aws:route53/queryLog with zoneId set to this zone's zoneId and "
            "cloudwatchLogGroupArn set to a log group in us-east-1 named /aws/route53/<zone "
            "name>, created after an aws:cloudwatch/logResourcePolicy in us-east-1 that lets "
            "route53.amazonaws.com call logs:CreateLogStream and logs:PutLogEvents on it "
            "(components.blue_green_dns does all three with create_zone)",
        )


POLICIES = [dns_public_zone_query_logging]
