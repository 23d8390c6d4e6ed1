"""ecs-environments-own-capacity and zone-loss-static-stability over small stacks, both ways."""

from __future__ import annotations

from policy_harness import Res, run_stack
from test_policy_stack_rules import assert_clean, assert_reported

from policy.guardrails import aws_types as t

PROD = {"environment": "prod"}


def subnet(zone: str) -> Res:
    return Res(t.SUBNET, f"private-{zone}", {"id": f"subnet-{zone}", "availabilityZone": zone})


def capacity(
    env: str,
    *,
    zones: tuple[str, ...] = ("a", "b", "c"),
    hosts: int = 3,
    instance_type: str = "t3.medium",
    target: int = 66,
    template: str | None = None,
) -> list[Res]:
    """A launch template, an Auto Scaling group over ``zones`` and a capacity provider."""
    lt = template or f"{env}-hosts"
    return [
        Res(t.LAUNCH_TEMPLATE, lt, {"id": f"lt-{lt}", "instanceType": instance_type}),
        Res(
            t.AUTOSCALING_GROUP,
            f"{env}-group",
            {
                "arn": f"arn:asg/{env}",
                "minSize": hosts,
                "vpcZoneIdentifiers": [f"subnet-{z}" for z in zones],
                "launchTemplate": {"id": f"lt-{lt}"},
            },
            {"launchTemplate": [lt], "vpcZoneIdentifiers": [f"private-{z}" for z in zones]},
        ),
        Res(
            t.ECS_CAPACITY_PROVIDER,
            f"{env}-ec2",
            {
                "name": f"{env}-ec2",
                "autoScalingGroupProvider": {
                    "autoScalingGroupArn": f"arn:asg/{env}",
                    "managedScaling": {"status": "ENABLED", "targetCapacity": target},
                },
            },
            {"autoScalingGroupProvider": [f"{env}-group"]},
        ),
    ]


def service(
    env: str, role: str, provider: str, *, minimum: int, maximum: int, cpu_target: int = 60
) -> list[Res]:
    """A service on ``provider`` (512 CPU, 1024 MiB), its scalable target and CPU policy."""
    name = f"{env}-{role}"
    return [
        Res(t.ECS_TASK_DEFINITION, f"{name}-taskdef", {"cpu": "512", "memory": "1024"}),
        Res(
            t.ECS_SERVICE,
            f"{name}-service",
            {
                "name": name,
                "capacityProviderStrategies": [{"capacityProvider": provider, "weight": 1}],
                "tags": {"Environment": env},
            },
            {"taskDefinition": [f"{name}-taskdef"], "capacityProviderStrategies": [provider]},
        ),
        Res(
            t.SCALABLE_TARGET,
            f"{name}-target",
            {"resourceId": f"service/c/{name}", "minCapacity": minimum, "maxCapacity": maximum},
            {"resourceId": [f"{name}-service"]},
        ),
        Res(
            t.SCALING_POLICY,
            f"{name}-cpu",
            {
                "resourceId": f"service/c/{name}",
                "targetTrackingScalingPolicyConfiguration": {
                    "targetValue": cpu_target,
                    "predefinedMetricSpecification": {
                        "predefinedMetricType": "ECSServiceAverageCPUUtilization"
                    },
                },
            },
            {"resourceId": [f"{name}-target"]},
        ),
    ]


ZONES = [subnet(z) for z in ("a", "b", "c")]


def environment(env: str, **kwargs: object) -> list[Res]:
    """One environment on capacity of its own: fleet of 3 (min) and a onebox of 2 (fixed)."""
    cpu_target = kwargs.pop("cpu_target", 60)
    return [
        *capacity(env, **kwargs),  # type: ignore[arg-type]
        *service(env, "fleet", f"{env}-ec2", minimum=3, maximum=20, cpu_target=cpu_target),  # type: ignore[arg-type]
        *service(env, "onebox", f"{env}-ec2", minimum=2, maximum=2),
    ]


def provider_of(resources: list[Res], env: str) -> Res:
    return next(r for r in resources if r.name == f"{env}-ec2")


# ecs-environments-own-capacity ------------------------------------------------------------------


def test_environments_on_their_own_capacity_pass() -> None:
    stack = [*ZONES, *environment("blue"), *environment("green")]
    assert_clean(run_stack("ecs-environments-own-capacity", stack, config=PROD))


def test_green_on_blues_capacity_provider_is_reported() -> None:
    stack = [
        *ZONES,
        *environment("blue"),
        *service("green", "fleet", "blue-ec2", minimum=3, maximum=20),
    ]
    outcome = run_stack("ecs-environments-own-capacity", stack, config=PROD)
    assert_reported(outcome, provider_of(stack, "blue"), "2 environments (blue, green)")


def test_one_launch_template_behind_two_groups_is_reported() -> None:
    stack = [*ZONES, *environment("blue"), *environment("green", template="blue-hosts")[1:]]
    template = next(r for r in stack if r.type == t.LAUNCH_TEMPLATE)
    outcome = run_stack("ecs-environments-own-capacity", stack, config=PROD)
    assert_reported(outcome, template, "2 Auto Scaling groups (blue-group, green-group)")


def test_shared_capacity_is_not_applicable_in_dev() -> None:
    stack = [
        *ZONES,
        *environment("blue"),
        *service("green", "fleet", "blue-ec2", minimum=1, maximum=2),
    ]
    outcome = run_stack("ecs-environments-own-capacity", stack, config={"environment": "dev"})
    assert outcome.violations == [] and outcome.not_applicable


# zone-loss-static-stability ---------------------------------------------------------------------


def test_prod_shaped_environment_rides_out_a_zone() -> None:
    """3 zones, 3 t3.medium hosts (3 tasks each), fleet 3 at 60 % plus a onebox of 2, 66 %."""
    assert_clean(
        run_stack("zone-loss-static-stability", [*ZONES, *environment("blue")], config=PROD)
    )


def test_cpu_target_above_what_two_zones_carry_is_reported() -> None:
    stack = [*ZONES, *environment("blue", cpu_target=70)]
    outcome = run_stack("zone-loss-static-stability", stack, config=PROD)
    assert_reported(outcome, provider_of(stack, "blue"), "2 of 3 task(s) remain", "at most 66")


def test_hosts_without_room_for_a_zones_tasks_are_reported() -> None:
    stack = [*ZONES, *environment("blue", instance_type="t3.small")]
    outcome = run_stack("zone-loss-static-stability", stack, config=PROD)
    assert_reported(outcome, provider_of(stack, "blue"), "2 of 3 host(s) remain", "runs 5")


def test_managed_scaling_without_a_zones_headroom_is_reported() -> None:
    stack = [*ZONES, *environment("blue", target=75)]
    outcome = run_stack("zone-loss-static-stability", stack, config=PROD)
    assert_reported(outcome, provider_of(stack, "blue"), "at 75 %", "at most 66")


def test_one_zone_group_is_reported() -> None:
    stack = [ZONES[0], *environment("blue", zones=("a",))]
    outcome = run_stack("zone-loss-static-stability", stack, config=PROD)
    assert_reported(outcome, provider_of(stack, "blue"), "spans 1 zone")


def test_fixed_count_services_are_room_not_what_the_group_is_sized_for() -> None:
    """The onebox (min = max = 2 over 3 zones) alone would have fewer tasks than zones."""
    stack = [
        *ZONES,
        *capacity("blue"),
        *service("blue", "onebox", "blue-ec2", minimum=2, maximum=2),
    ]
    assert_clean(run_stack("zone-loss-static-stability", stack, config=PROD))


def test_unknown_instance_type_is_a_note_not_a_pass_on_everything_else() -> None:
    stack = [*ZONES, *environment("blue", instance_type="z9.huge", target=90)]
    outcome = run_stack("zone-loss-static-stability", stack, config=PROD)
    assert_reported(outcome, provider_of(stack, "blue"), "at 90 %")
    assert not any("host(s) remain" in m for m in outcome.messages)
