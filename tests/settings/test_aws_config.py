"""`aws:` keys: a region pulumi-aws knows, and only provider settings, each refused with a
suggestion."""

from __future__ import annotations

import pytest

from settings import SettingsError, load_settings
from settings.aws_config import known_regions, provider_keys


def problems(raw: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(raw)
    return [str(p) for p in caught.value.problems]


def test_the_region_list_is_pulumi_aws_s() -> None:
    from pulumi_aws._enums import Region

    assert set(known_regions()) == {region.value for region in Region}
    assert {"us-east-2", "eu-west-1"} <= set(known_regions())


def test_a_region_that_does_not_exist() -> None:
    [line] = problems({"aws:region": "mars-north-1"})
    assert line.startswith(
        "aws:region = mars-north-1: not a region pulumi-aws knows; did you mean eu-north-1? "
        "allowed: af-south-1, "
    )
    assert "us-east-2" in line


def test_a_number_is_not_a_region() -> None:
    [line] = problems({"aws:region": "42"})
    assert line.startswith("aws:region = 42: not a region pulumi-aws knows; allowed: af-south-1")


def test_a_misspelled_region_key() -> None:
    assert problems({"aws:regoin": "us-east-2"}) == [
        "aws:regoin = us-east-2: not a pulumi-aws provider setting; did you mean region? "
        "see the provider's configuration reference for the others"
    ]


def test_aws_problems_come_with_the_project_s() -> None:
    found = problems({"aws:region": "mars-north-1", "steadystate:service": '{"cpuTarget": 5}'})
    assert [line.split(" = ")[0] for line in found] == [
        "steadystate:service.cpuTarget",
        "aws:region",
    ]


def test_real_regions_and_provider_keys_pass() -> None:
    for region in ("us-east-2", "eu-central-1", "ap-southeast-2"):
        load_settings({"aws:region": region, "aws:defaultTags": '{"tags": {"Stack": "dev"}}'})
    load_settings({})  # no aws:region: the provider falls back to AWS_REGION
    assert {"region", "defaultTags", "profile", "skipRegionValidation"} <= set(provider_keys())


def test_a_region_newer_than_pulumi_aws_can_be_let_through() -> None:
    load_settings({"aws:region": "xx-newer-1", "aws:skipRegionValidation": "true"})


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"aws:region": "mars-north-1"}, "aws:region"),
        ({"aws:region": 42}, "aws:region"),
        ({"aws:region": "us-east-2", "aws:regoin": "us-east-1"}, "aws:regoin"),
    ],
    ids=["no-such-region", "number", "misspelled-key"],
)
def test_the_real_program_refuses_a_bad_stack_file(tmp_path, fresh_loop, config, key) -> None:
    import shutil

    import yaml

    from ops.synth.runner import PROJECT_DIR, synthesize

    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.bad.yaml").write_text(yaml.safe_dump({"config": config}))
    with pytest.raises(SettingsError) as caught:
        synthesize("bad", project_dir=tmp_path, program=PROJECT_DIR / "__main__.py")
    assert caught.value.partial_recording.records == []  # pyright: ignore[reportAttributeAccessIssue]
    assert [p.key for p in caught.value.problems] == [key]
