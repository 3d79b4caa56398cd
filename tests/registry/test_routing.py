"""Which subject a call goes to (``kernel/registry/_routing.py``); the real processes are in
tests/distribution/test_balancing.py."""

import pytest

from kernel.registry import choose_subject, instance_subject
from kernel.registry._routing import pick

KEYS = [f"order-{index}" for index in range(2000)]
NODES = [f"module-host-{index}" for index in range(5)]


def test_a_node_leaving_moves_only_its_own_keys() -> None:
    before = {key: pick(key, NODES) for key in KEYS}
    after = {key: pick(key, NODES[1:]) for key in KEYS}
    moved = {key for key in KEYS if before[key] != after[key]}
    assert moved == {key for key in KEYS if before[key] == NODES[0]}
    # Each node holds about a fifth: no node is left idle or takes most of the keys.
    shares = [sum(owner == node for owner in before.values()) for node in NODES]
    assert all(len(KEYS) / 10 < share < len(KEYS) * 3 / 10 for share in shares), shares


def test_a_node_joining_takes_keys_from_every_node_and_moves_no_others() -> None:
    before = {key: pick(key, NODES[:4]) for key in KEYS}
    after = {key: pick(key, NODES) for key in KEYS}
    moved = {key for key in KEYS if before[key] != after[key]}
    assert moved == {key for key in KEYS if after[key] == NODES[4]}
    assert {before[key] for key in moved} == set(NODES[:4])


def test_the_choice_does_not_depend_on_the_order_the_table_lists_nodes() -> None:
    assert all(pick(key, NODES) == pick(key, list(reversed(NODES))) for key in KEYS[:200])


def test_a_keyed_call_goes_to_the_queue_group_while_the_table_cannot_tell() -> None:
    # No node table yet (or not settled: Instances.nodes_running says None): any instance.
    assert choose_subject("billing", "charge", shard_key="k") == "webos.svc.billing.charge"


def test_a_node_id_becomes_one_subject_token() -> None:
    subject = instance_subject("billing", "charge", "module-db1.example.org-41-a*b>c d")
    assert subject == "webos.svc.billing.charge.@module-db1_example_org-41-a_b_c_d"


@pytest.mark.parametrize("key", [1.5, b"k", True, ("a",)])
def test_a_key_that_does_not_compare_by_value_is_refused(key: object) -> None:
    with pytest.raises(TypeError, match="shard_key must be a str or an int"):
        choose_subject("billing", "charge", shard_key=key)
