"""``pulumi up`` played on moto: a stand-in for ``pulumi.automation.Stack`` whose ``up`` runs the
real program under the mock runtime with the run's ``--config-file`` release block, then applies
what changed to moto — every serving task definition whose content changed is registered and its
service updated; every release pin's SSM parameter is written — as Pulumi would.

The engine keeps a held pin (``ignore_changes``) at the value in the stack's state; the mock runtime
has none, so a held pin answers with the document this stand-in recorded at the last ``up``.
ECS's side stays the test's: after an ``up`` a changed service's primary deployment is IN_PROGRESS
on the new revision, and ``on_deploy`` (default: ECS completes it) decides what happens next.
"""

from __future__ import annotations

import inspect
import json
import runpy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pulumi import automation as auto

from ops.release.run_config import read_run_config
from ops.synth import mocks as mocks_module
from ops.synth.runner import Recording, _program_context, run_under_mocks
from ops.synth.stack_config import load_stack_config
from settings import load_settings
from tests.chaos.moto_world import REGION

REPO = Path(__file__).resolve().parents[2]
PIN = "aws:ssm/parameter:Parameter"
TASKDEF = "aws:ecs/taskDefinition:TaskDefinition"
NAMESPACE = "steadystate"


@contextmanager
def held_pins(recorded: dict[str, str]) -> Iterator[None]:
    """Pins named in ``recorded`` answer with that document, as the engine does for a held one."""
    original = mocks_module.SteadyMocks.new_resource

    def new_resource(self: Any, args: Any) -> tuple[str | None, dict]:
        physical, state = original(self, args)
        key = args.name.removesuffix("-pin")
        if args.typ == PIN and args.name.endswith("-pin") and key in recorded:
            state = {**state, "insecureValue": recorded[key]}
        return physical, state

    mocks_module.SteadyMocks.new_resource = new_resource  # type: ignore[method-assign]
    try:
        yield
    finally:
        mocks_module.SteadyMocks.new_resource = original  # type: ignore[method-assign]


class PulumiOnMoto:
    """One deployed stack: ``ecs``/``ssm``/``cloudwatch`` are moto clients."""

    def __init__(self, stack: str, ecs: Any, ssm: Any, cloudwatch: Any) -> None:
        self.name = stack
        self.ecs, self.ssm, self.cloudwatch = ecs, ssm, cloudwatch
        self.config = load_stack_config(REPO, stack)
        self.recorded: dict[str, str] = {}
        self.applied: dict[str, str] = {}  # key -> container definitions last registered
        self.revisions: dict[str, str] = {}  # key -> task definition ARN the stack manages
        self.runs: list[dict[str, Any]] = []
        self.on_deploy: Callable[[str, str], None] = self.complete
        self._outputs: dict[str, Any] = {}
        self.calls: list[str] = []
        self._deploy(self._synth({}), first=True)

    # what the pipeline calls (checked against auto.Stack's signatures) -------------------------
    def _record(self, method: str, **kwargs: Any) -> None:
        inspect.signature(getattr(auto.Stack, method)).bind(self, **kwargs)
        self.calls.append(method)

    def get_all_config(self) -> dict[str, auto.ConfigValue]:
        self._record("get_all_config")
        return {k: auto.ConfigValue(v) for k, v in self.config.values.items()}

    def outputs(self) -> dict[str, auto.OutputValue]:
        self._record("outputs")
        return {k: auto.OutputValue(v, secret=False) for k, v in self._outputs.items()}

    def preview(self, **kwargs: Any) -> Any:
        self._record("preview", **kwargs)
        return SimpleNamespace(change_summary={})

    def up(self, **kwargs: Any) -> Any:
        self._record("up", **kwargs)
        release = read_run_config(Path(kwargs["config_file"]), NAMESPACE)
        self.runs.append(release)
        changed = self._deploy(self._synth(release))
        return SimpleNamespace(
            outputs=self.outputs(),
            summary=SimpleNamespace(resource_changes={"update": len(changed)}),
        )

    # the program, then moto ----------------------------------------------------------------------
    def _synth(self, release: dict[str, Any]) -> Recording:
        values = dict(self.config.values)
        committed = json.loads(values.get(f"{NAMESPACE}:release", "{}"))
        values[f"{NAMESPACE}:release"] = json.dumps({**committed, **release})
        moves = load_settings(values, self.config.project).release.moves
        held = {key: doc for key, doc in self.recorded.items() if not moves(key)}
        with held_pins(held), _program_context(REPO):
            return run_under_mocks(
                lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
                project=self.config.project,
                stack=self.name,
                config=values,
                secret_keys=self.config.secret_keys,
                region=values.get("aws:region", REGION),
            )

    def _deploy(self, rec: Recording, first: bool = False) -> list[str]:
        outputs = rec.outputs
        self._outputs = dict(outputs)
        cluster, names = outputs["clusterName"], outputs["serviceNames"]
        if first:
            self.ecs.create_cluster(clusterName=cluster)
        changed: list[str] = []
        for task in rec.of_type(TASKDEF):
            key = task.name.removesuffix("-taskdef")
            if key not in names:
                continue  # not a serving task definition (the database bootstrap)
            containers = task.inputs["containerDefinitions"]
            if self.applied.get(key) == containers:
                continue
            tags = [{"key": k, "value": v} for k, v in (task.inputs.get("tags") or {}).items()]
            arn = self.ecs.register_task_definition(
                family=task.inputs["family"],
                networkMode="bridge",
                containerDefinitions=json.loads(containers),
                tags=tags,
            )["taskDefinition"]["taskDefinitionArn"]
            self.applied[key], self.revisions[key] = containers, arn
            changed.append(key)
            if first:
                self.ecs.create_service(
                    cluster=cluster, serviceName=names[key], taskDefinition=arn, desiredCount=1
                )
                self.ecs.update_service(cluster=cluster, service=names[key], desiredCount=1)
                self.complete(names[key], arn)
            else:
                self.ecs.update_service(cluster=cluster, service=names[key], taskDefinition=arn)
                self.deployment(names[key]).update(taskDefinition=arn, rolloutState="IN_PROGRESS")
                self.on_deploy(names[key], arn)
        for pin in rec.of_type(PIN):
            if not pin.name.endswith("-pin"):
                continue
            key = pin.name.removesuffix("-pin")
            held = pin.options.get("ignoreChanges") and key in self.recorded
            document = self.recorded[key] if held else str(pin.inputs["insecureValue"])
            self.recorded[key] = document
            self.ssm.put_parameter(
                Name=pin.inputs["name"], Type="String", Value=document, Overwrite=True
            )
        if first:
            for alarm in (n for alarms in outputs["deploymentAlarmNames"].values() for n in alarms):
                self.cloudwatch.put_metric_alarm(
                    AlarmName=alarm,
                    Namespace="AWS/ApplicationELB",
                    MetricName="TargetResponseTime",
                    ExtendedStatistic="p90",
                    Period=60,
                    EvaluationPeriods=4,
                    DatapointsToAlarm=3,
                    Threshold=3.0,
                    ComparisonOperator="GreaterThanThreshold",
                )
                self.cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="ok")
        return changed

    # ECS, as the test plays it ------------------------------------------------------------------
    def deployment(self, service: str) -> dict[str, Any]:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.ecs.models import ecs_backends

        model = ecs_backends[DEFAULT_ACCOUNT_ID][REGION].services[f"{self.cluster_name}:{service}"]
        return model.deployments[0]

    @property
    def cluster_name(self) -> str:
        return str(self._outputs["clusterName"])

    def complete(self, service: str, task_definition: str) -> None:
        """ECS finishes the rollout: the primary deployment is COMPLETED on ``task_definition``."""
        self.deployment(service).update(taskDefinition=task_definition, rolloutState="COMPLETED")

    def roll_back(self, service: str, task_definition: str) -> None:
        """ECS's alarm-driven rollback: back to ``task_definition``, COMPLETED."""
        self.ecs.update_service(
            cluster=self.cluster_name, service=service, taskDefinition=task_definition
        )
        self.complete(service, task_definition)

    def environment(self, service: str) -> dict[str, str]:
        """The app container's environment in the revision ``service`` runs now."""
        found = self.ecs.describe_services(cluster=self.cluster_name, services=[service])
        arn = found["services"][0]["taskDefinition"]
        definition = self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        app = definition["containerDefinitions"][0]
        return {e["name"]: e["value"] for e in app.get("environment", [])}
