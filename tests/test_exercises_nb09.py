"""Self-checks of 09_interview_prep: right answers pass, typical wrong ones fail with a hint
that does not give the answer, unsolved ones show "not attempted yet"."""

from __future__ import annotations

import math

import pytest
from exercise_contract import contract_tests

from ppml_helpers import dp
from ppml_helpers.exercises import nb09

RIGHT_DEFENCE = {
    "inversion": "secure aggregation",
    "membership": "DP-SGD with an accounted ε",
    "poisoning": "robust aggregation (median or Krum)",
    "eavesdropper": "TLS between hospital and server",
    "differencing": "DP noise on every release, within a budget",
    "key-holder": "threshold decryption: the key split among several parties",
    "dropout-lie": "a Shamir threshold chosen with the colluders counted",
}


def defence_right(attack, options):
    return RIGHT_DEFENCE[attack]


def defence_secagg_for_everything(attack, options):
    return "secure aggregation" if "secure aggregation" in options else options[0]


def quick_right():
    orders = dp.DEFAULT_ORDERS
    rdp = dp.rdp_subsampled_gaussian(noise_multiplier=1.0, sample_rate=0.01, steps=1000, orders=orders)
    return {"laplace_scale": 1 / 0.5, "rr_truth_probability": 3 / 4, "basic_composition_epsilon": 10 * 0.1,
            "dp_sgd_epsilon": dp.rdp_to_epsilon(orders=orders, rdp=rdp, delta=1e-5)[0],
            "ckks_ciphertexts": math.ceil(199_210 / 4096), "pairwise_masks": 4950}


def quick_slots_not_halved():
    return quick_right() | {"ckks_ciphertexts": math.ceil(199_210 / 8192)}


SOUND = {"secagg-makes-dp": False, "epsilon-covers-all-epochs": True, "audit-proves-correct": False,
         "ckks-approximate": True, "average-auc-safe": False, "clipping-is-privacy": False,
         "shamir-t-reconstruct": True}


def premise_right(key):
    return SOUND[key]


def premise_trusts_auc(key):
    return True if key == "average-auc-safe" else SOUND[key]


test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests([
    (nb09.check_defence_for, defence_right, defence_secagg_for_everything),
    (nb09.check_quick_numbers, quick_right, quick_slots_not_halved),
    (nb09.check_premise_is_sound, premise_right, premise_trusts_auc),
])


def test_every_attack_has_three_options_and_its_answer_among_them():
    for attack, (what, options, answer, hint) in nb09.ATTACKS.items():
        assert len(options) == 3 and answer in options and what and hint
        assert answer not in hint, f"the hint of {attack!r} gives the answer away"


def test_a_defence_outside_the_options_is_named():
    result = nb09.check_defence_for(lambda attack, options: "pray")
    assert not result and "'pray', which is not one of its options" in result.message


@pytest.mark.parametrize(("change", "says"), [
    ({"laplace_scale": 0.5}, "laplace_scale"),
    ({"pairwise_masks": 9900}, "pairwise_masks"),
    ({"dp_sgd_epsilon": float("nan")}, "expected a number"),
])
def test_a_wrong_quick_number_is_named_with_its_hint(change, says):
    result = nb09.check_quick_numbers(lambda: quick_right() | change)
    assert not result and says in result.message and result.hint


def test_the_dp_sgd_number_allows_another_accountant_within_one_percent():
    assert nb09.check_quick_numbers(lambda: quick_right() | {"dp_sgd_epsilon": quick_right()["dp_sgd_epsilon"] * 1.009})
    assert not nb09.check_quick_numbers(lambda: quick_right() | {"dp_sgd_epsilon": quick_right()["dp_sgd_epsilon"] * 1.05})


def test_a_premise_answered_with_a_string_is_refused():
    result = nb09.check_premise_is_sound(lambda key: "yes")
    assert not result and "expected True or False" in result.message
