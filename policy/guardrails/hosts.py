"""EC2 host guardrails: what the container instances (launch template, Auto Scaling group) and any
stand-alone instance or volume may look like: no public IPs, encrypted disks, spread over zones,
launched from launch templates."""

from __future__ import annotations

from typing import Any

from . import limits
from .aws_types import AUTOSCALING_GROUP, EBS_VOLUME, INSTANCE, LAUNCH_TEMPLATE
from .framework import MANDATORY, ResourceCheck, resource_rule
from .properties import as_list, find_unknown, fmt, is_set, is_unknown


def _truthy(value: Any) -> bool:
    """Launch-template booleans are strings ("true"); instance booleans are booleans."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@resource_rule(
    "hosts-no-public-ip",
    types=[LAUNCH_TEMPLATE, INSTANCE],
    level=MANDATORY,
    description=(
        "Launch templates never give network interfaces a public IP, and instances never ask "
        "for one (FSBP EC2.25, EC2.9, CKV_AWS_88). Mandatory: container hosts sit in private "
        "subnets behind the load balancer; a public IP makes every open port on them reachable "
        "from the internet."
    ),
)
def hosts_no_public_ip(check: ResourceCheck) -> None:
    if check.type == INSTANCE:
        if check.known("associatePublicIpAddress") is True:
            check.violation(
                "associatePublicIpAddress is true",
                "set associatePublicIpAddress=false and launch the instance in a private subnet",
            )
        return
    interfaces = check.get("networkInterfaces", [])
    if is_unknown(interfaces):
        check.note("networkInterfaces is unknown during preview")
        return
    for i, interface in enumerate(interfaces):
        value = interface.get("associatePublicIpAddress") if isinstance(interface, dict) else None
        if is_unknown(value):
            check.note(f"networkInterfaces[{i}].associatePublicIpAddress is unknown during preview")
        elif _truthy(value):
            check.violation(
                f"networkInterfaces[{i}].associatePublicIpAddress is {fmt(value)}",
                f'set networkInterfaces[{i}].associatePublicIpAddress="false" (or drop the '
                "network interface block and use vpcSecurityGroupIds) and launch into private "
                "subnets",
            )


_EXAMPLE_MAPPING = (
    'blockDeviceMappings=[{deviceName: "/dev/xvda", ebs: {volumeType: "gp3", volumeSize: 30, '
    'encrypted: "true"}}]'
)


def _launch_template_volumes(check: ResourceCheck) -> None:
    mappings = check.known("blockDeviceMappings", [])
    ebs = [(i, m.get("ebs")) for i, m in enumerate(mappings) if isinstance(m, dict)]
    ebs = [(i, e) for i, e in ebs if isinstance(e, dict)]
    if not ebs:
        check.violation(
            "no blockDeviceMappings set, so the root volume is created from the AMI's "
            "unencrypted snapshot unless the account enables EBS encryption by default",
            f"set {_EXAMPLE_MAPPING}",
        )
        return
    for i, volume in ebs:
        if is_set(volume.get("snapshotId")) and not is_set(volume.get("encrypted")):
            continue  # the snapshot's own encryption applies; encrypted cannot be combined
        if not _truthy(volume.get("encrypted")):
            check.violation(
                f"blockDeviceMappings[{i}].ebs.encrypted is "
                f"{fmt(volume.get('encrypted')) if is_set(volume.get('encrypted')) else 'unset'}",
                f'set blockDeviceMappings[{i}].ebs.encrypted="true" (optionally kmsKeyId)',
            )


def _instance_volumes(check: ResourceCheck) -> None:
    root = check.known("rootBlockDevice")
    if not isinstance(root, dict) or root.get("encrypted") is not True:
        check.violation(
            "rootBlockDevice.encrypted is not true",
            'set rootBlockDevice={encrypted: true, volumeType: "gp3"}',
        )
    volumes = check.known("ebsBlockDevices", []) or []
    for i, volume in enumerate(volumes if isinstance(volumes, list) else [volumes]):
        if isinstance(volume, dict) and volume.get("encrypted") is not True:
            if is_set(volume.get("snapshotId")):
                continue
            check.violation(
                f"ebsBlockDevices[{i}].encrypted is not true",
                f"set ebsBlockDevices[{i}].encrypted=true",
            )


@resource_rule(
    "hosts-encrypted-volumes",
    types=[LAUNCH_TEMPLATE, INSTANCE, EBS_VOLUME],
    level=MANDATORY,
    description=(
        "Every EBS volume a host gets is encrypted: launch-template block device mappings, an "
        "instance's root and data volumes, stand-alone volumes (FSBP EC2.3, CKV_AWS_3/8). "
        "Mandatory: the Docker layer cache and task scratch space hold the image and whatever "
        "the tasks wrote; a detached unencrypted volume or its snapshot can be read anywhere."
    ),
)
def hosts_encrypted_volumes(check: ResourceCheck) -> None:
    if check.type == LAUNCH_TEMPLATE:
        _launch_template_volumes(check)
    elif check.type == INSTANCE:
        _instance_volumes(check)
    elif check.known("encrypted") is not True and not is_set(check.get("snapshotId")):
        check.violation("encrypted is not true", "set encrypted=true (optionally kmsKeyId)")


def _count(value: Any) -> int:
    listed = as_list(value)
    return len(listed) if isinstance(listed, list) else 0


@resource_rule(
    "autoscaling-group-multi-az",
    types=AUTOSCALING_GROUP,
    level=MANDATORY,
    description=(
        "Auto Scaling groups launch into at least two subnets or Availability Zones (FSBP "
        "AutoScaling.2). Mandatory: hosts in one zone take every task down with that zone."
    ),
)
def autoscaling_group_multi_az(check: ResourceCheck) -> None:
    subnets = check.get("vpcZoneIdentifiers")
    zones = check.get("availabilityZones")
    if is_unknown(subnets) or is_unknown(zones):
        check.note("vpcZoneIdentifiers / availabilityZones are unknown during preview")
        return
    count = max(_count(subnets), _count(zones))
    if limits.zone_count_problem(count):
        check.violation(
            f"it launches into {count} subnet{'s' if count != 1 else ''}/zone",
            "set vpcZoneIdentifiers to private subnets in at least two Availability Zones",
        )


@resource_rule(
    "autoscaling-group-launch-template",
    types=AUTOSCALING_GROUP,
    level=MANDATORY,
    description=(
        "Auto Scaling groups launch from a launch template, never a launch configuration (FSBP "
        "AutoScaling.9). Mandatory: launch configurations cannot require IMDSv2 tokens with a "
        "hop limit, get no new EC2 features and are being retired by AWS."
    ),
)
def autoscaling_group_launch_template(check: ResourceCheck) -> None:
    configuration = check.get("launchConfiguration")
    if is_unknown(configuration) and find_unknown(check.get("launchTemplate")) is not None:
        check.note("launchConfiguration and launchTemplate are unknown during preview")
        return
    if is_set(configuration) and not is_unknown(configuration):
        check.violation(
            f"it launches from launch configuration {fmt(configuration)}",
            "remove launchConfiguration and set launchTemplate={id: <aws:ec2/launchTemplate id>, "
            'version: "$Latest"} (with metadataOptions.httpTokens="required")',
        )


POLICIES = [
    hosts_no_public_ip,
    hosts_encrypted_volumes,
    autoscaling_group_multi_az,
    autoscaling_group_launch_template,
]
