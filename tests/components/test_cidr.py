"""Properties of the subnet planner: inside the VPC, disjoint, stable when zones are added."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.cidr import (
    DEFAULT_TIER_SHARES,
    MIN_SUBNET_PREFIX,
    largest_vpc_prefix,
    overlapping,
    plan_subnets,
    tier_blocks,
    zone_slots,
)

FAST = settings(deadline=None, max_examples=150)


def _network(address: int, prefix: int) -> str:
    mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    return str(ipaddress.IPv4Network((address & mask, prefix)))


@st.composite
def vpc_cidrs(draw: st.DrawFn, low: int = 16, high: int = 22) -> str:
    """Any IPv4 network with a prefix in [low, high], on any address."""
    return _network(draw(st.integers(0, 2**32 - 1)), draw(st.integers(low, high)))


@st.composite
def tier_layouts(draw: st.DrawFn) -> tuple[dict[str, int], int]:
    """A custom tier map (power-of-two shares) and a max_zones."""
    names = draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True))
    tiers = {n: draw(st.sampled_from([1, 2, 4])) for n in names}
    return tiers, draw(st.integers(1, 8))


def _all(plan: dict[str, list[str]]) -> list[ipaddress.IPv4Network]:
    return [ipaddress.IPv4Network(c) for subnets in plan.values() for c in subnets]


def _disjoint(networks: list[ipaddress.IPv4Network]) -> bool:
    spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in networks)
    return all(prev[1] < nxt[0] for prev, nxt in itertools.pairwise(spans))


# -- the default layout ------------------------------------------------------------------------


def test_documented_layout_for_a_16() -> None:
    plan = plan_subnets("10.20.0.0/16", 3)
    assert plan == {
        "public": ["10.20.128.0/21", "10.20.136.0/21", "10.20.144.0/21"],
        "private": ["10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20"],
        "isolated": ["10.20.192.0/21", "10.20.200.0/21", "10.20.208.0/21"],
    }
    assert list(plan) == list(DEFAULT_TIER_SHARES)


def test_supported_vpc_prefixes_are_16_to_22() -> None:
    # settings.model accepts exactly this range for network.cidr; keep them in step.
    assert largest_vpc_prefix() == 22
    plan_subnets("10.0.0.0/22", 6)
    with pytest.raises(ValueError):
        plan_subnets("10.0.0.0/23", 1)


@FAST
@given(vpc=vpc_cidrs(), zones=st.integers(1, 6))
def test_every_subnet_is_inside_the_vpc(vpc: str, zones: int) -> None:
    network = ipaddress.IPv4Network(vpc)
    assert all(s.subnet_of(network) for s in _all(plan_subnets(vpc, zones)))


@FAST
@given(vpc=vpc_cidrs(), zones=st.integers(1, 6))
def test_no_two_subnets_overlap_across_all_tiers(vpc: str, zones: int) -> None:
    plan = plan_subnets(vpc, zones)
    assert _disjoint(_all(plan))
    assert overlapping(c for subnets in plan.values() for c in subnets) == []


@FAST
@given(vpc=vpc_cidrs(), data=st.data())
def test_adding_zones_never_moves_an_existing_subnet(vpc: str, data: st.DataObject) -> None:
    more = data.draw(st.integers(1, 6), label="zones after")
    fewer = data.draw(st.integers(1, more), label="zones before")
    before, after = plan_subnets(vpc, fewer), plan_subnets(vpc, more)
    for tier in before:
        assert after[tier][:fewer] == before[tier]


@FAST
@given(vpc=vpc_cidrs(), zones=st.integers(1, 6))
def test_tiers_are_sized_as_documented(vpc: str, zones: int) -> None:
    plan = plan_subnets(vpc, zones)
    vpc_prefix = ipaddress.IPv4Network(vpc).prefixlen
    prefixes = {t: {ipaddress.IPv4Network(c).prefixlen for c in cidrs} for t, cidrs in plan.items()}
    # one size per tier; private (where the instances live) twice as big as the others
    assert prefixes == {
        "private": {vpc_prefix + 4},
        "public": {vpc_prefix + 5},
        "isolated": {vpc_prefix + 5},
    }
    assert all(len(cidrs) == zones for cidrs in plan.values())
    assert max(p for ps in prefixes.values() for p in ps) <= MIN_SUBNET_PREFIX


@FAST
@given(vpc=vpc_cidrs(low=23, high=28))
def test_a_vpc_too_small_is_rejected_naming_cidr_and_minimum(vpc: str) -> None:
    with pytest.raises(ValueError, match="too small") as err:
        plan_subnets(vpc, 1)
    assert vpc in str(err.value)
    assert "/22" in str(err.value)


@pytest.mark.parametrize("vpc", ["10.0.0.0/8", "172.16.0.0/12", "10.0.0.0/15"])
def test_a_vpc_larger_than_aws_allows_is_rejected(vpc: str) -> None:
    with pytest.raises(ValueError, match=r"larger than AWS allows.*/16"):
        plan_subnets(vpc, 2)


@pytest.mark.parametrize(
    ("vpc", "message"),
    [
        ("10.0.0.1/16", "host bits"),
        ("10.0.0.0/33", "invalid VPC CIDR"),
        ("not-a-cidr", "invalid VPC CIDR"),
        ("fd00::/56", "IPv4"),
        ("", "invalid VPC CIDR"),
    ],
)
def test_malformed_vpc_cidrs_are_rejected(vpc: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_subnets(vpc, 1)


@pytest.mark.parametrize("zones", [0, -1, 7])
def test_zone_count_must_fit_the_slots(zones: int) -> None:
    with pytest.raises(ValueError, match="zone_count"):
        plan_subnets("10.0.0.0/16", zones)


def test_zone_slots_round_up_to_a_power_of_two() -> None:
    assert [zone_slots(n) for n in (1, 2, 3, 4, 5, 6, 8, 9)] == [1, 2, 4, 4, 8, 8, 8, 16]
    with pytest.raises(ValueError, match="max_zones"):
        zone_slots(0)


@pytest.mark.parametrize("tiers", [{}, {"a": 3}, {"a": 0}, {"a": -2}, {"a": 1.0}])
def test_tier_shares_must_be_powers_of_two(tiers: dict) -> None:
    with pytest.raises(ValueError):
        plan_subnets("10.0.0.0/16", 1, tiers=tiers)


def test_tier_blocks_are_aligned_halves_and_quarters() -> None:
    assert tier_blocks("10.0.0.0/16") == {
        "public": "10.0.128.0/18",
        "private": "10.0.0.0/17",
        "isolated": "10.0.192.0/18",
    }


# -- any layout --------------------------------------------------------------------------------


@FAST
@given(layout=tier_layouts(), data=st.data())
def test_custom_layouts_keep_every_property(
    layout: tuple[dict[str, int], int], data: st.DataObject
) -> None:
    tiers, max_zones = layout
    vpc = data.draw(vpc_cidrs(high=largest_vpc_prefix(tiers, max_zones)), label="vpc")
    zones = data.draw(st.integers(1, max_zones), label="zones")
    plan = plan_subnets(vpc, zones, tiers=tiers, max_zones=max_zones)
    network = ipaddress.IPv4Network(vpc)
    subnets = _all(plan)
    assert list(plan) == list(tiers)
    assert all(s.subnet_of(network) and s.prefixlen <= MIN_SUBNET_PREFIX for s in subnets)
    assert _disjoint(subnets)
    grown = plan_subnets(vpc, max_zones, tiers=tiers, max_zones=max_zones)
    assert all(grown[t][:zones] == plan[t] for t in tiers)
    # A bigger share never gets a smaller subnet.
    for a, b in itertools.permutations(tiers, 2):
        if tiers[a] > tiers[b]:
            assert ipaddress.IPv4Network(plan[a][0]).prefixlen < (
                ipaddress.IPv4Network(plan[b][0]).prefixlen
            )


@FAST
@given(layout=tier_layouts(), data=st.data())
def test_custom_layouts_too_small_are_rejected(
    layout: tuple[dict[str, int], int], data: st.DataObject
) -> None:
    tiers, max_zones = layout
    limit = largest_vpc_prefix(tiers, max_zones)
    if limit >= 28:
        return  # every VPC AWS allows fits this layout
    vpc = data.draw(vpc_cidrs(low=limit + 1, high=28), label="vpc")
    with pytest.raises(ValueError, match=f"/{limit} or larger"):
        plan_subnets(vpc, 1, tiers=tiers, max_zones=max_zones)


# -- overlapping -------------------------------------------------------------------------------


def test_overlapping_lists_each_overlapping_pair_in_input_order() -> None:
    cidrs = ["10.0.0.0/16", "10.1.0.0/16", "10.0.4.0/24", "192.168.0.0/24", "10.0.0.0/8"]
    assert overlapping(cidrs) == [
        ("10.0.0.0/16", "10.0.4.0/24"),
        ("10.0.0.0/16", "10.0.0.0/8"),
        ("10.1.0.0/16", "10.0.0.0/8"),
        ("10.0.4.0/24", "10.0.0.0/8"),
    ]


def test_overlapping_edge_cases() -> None:
    assert overlapping([]) == []
    assert overlapping(["10.0.0.0/24"]) == []
    assert overlapping(["10.0.0.0/24", "10.0.0.0/24"]) == [("10.0.0.0/24", "10.0.0.0/24")]
    assert overlapping(["10.0.0.0/25", "10.0.0.128/25"]) == []  # adjacent is not overlapping
    assert overlapping(["::/0", "0.0.0.0/0"]) == []  # families never overlap


@pytest.mark.parametrize("bad", ["10.0.0.1/24", "10.0.0.0/40", "nope"])
def test_overlapping_rejects_malformed_cidrs_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid CIDR") as err:
        overlapping(["10.0.0.0/16", bad])
    assert repr(bad) in str(err.value)


@FAST
@given(vpc=vpc_cidrs(), zones=st.integers(1, 6))
def test_the_vpc_overlaps_every_planned_subnet_and_nothing_else_does(vpc: str, zones: int) -> None:
    subnets = [c for cidrs in plan_subnets(vpc, zones).values() for c in cidrs]
    assert overlapping([vpc, *subnets]) == [(vpc, s) for s in subnets]


@FAST
@given(cidrs=st.lists(vpc_cidrs(low=8, high=30), max_size=8))
def test_overlapping_agrees_with_address_ranges(cidrs: list[str]) -> None:
    def span(c: str) -> range:
        n = ipaddress.IPv4Network(c)
        return range(int(n.network_address), int(n.broadcast_address) + 1)

    expected = [
        (cidrs[i], cidrs[j])
        for i, j in itertools.combinations(range(len(cidrs)), 2)
        if span(cidrs[i]).start < span(cidrs[j]).stop and span(cidrs[j]).start < span(cidrs[i]).stop
    ]
    assert overlapping(cidrs) == expected
