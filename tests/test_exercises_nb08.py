"""Self-checks of 08_capstone_hospitals: right answers pass, typical wrong ones fail with a hint
that does not give the answer, unsolved ones show "not attempted yet"."""

from __future__ import annotations

import numpy as np
import pytest
from exercise_contract import contract_tests

from ppml_helpers import dp
from ppml_helpers.exercises import nb08

# --- 8.1 ---------------------------------------------------------------------------------


def noise_share_right(total, hospitals, colluders, dropouts):
    return total / (hospitals - colluders - dropouts)


def noise_share_every_share_counted(total, hospitals, colluders, dropouts):
    return total / hospitals


def noise_share_colluders_only(total, hospitals, colluders, dropouts):
    return total / (hospitals - colluders)


# --- 8.2 ---------------------------------------------------------------------------------


def patient_epsilon_right(sigma, rounds, delta, hospitals):
    orders = np.array(dp.DEFAULT_ORDERS)
    return dp.rdp_to_epsilon(orders=orders, rdp=rounds * orders / (2 * sigma**2), delta=delta)[0]


def patient_epsilon_sequential(sigma, rounds, delta, hospitals):
    return hospitals * patient_epsilon_right(sigma, rounds, delta, hospitals)


def patient_epsilon_per_round_then_sum(sigma, rounds, delta, hospitals):
    return rounds * patient_epsilon_right(sigma, 1, delta / rounds, hospitals)


# --- 8.3 ---------------------------------------------------------------------------------


def plan_threshold_right(n, colluders, dropouts):
    t = n - dropouts
    return t if 2 * t > n + colluders else None


def plan_threshold_smallest_safe(n, colluders, dropouts):  # safe against colluders, too low for the plan
    t = (n + colluders) // 2 + 1
    return t if n - t >= dropouts else None


def plan_threshold_never_none(n, colluders, dropouts):
    return n - dropouts


# --- 8.4 ---------------------------------------------------------------------------------


def choose_right(facts):
    return nb08.reference_configuration(facts)


def choose_always_local(facts):
    return "local"


def choose_ignores_threshold(facts):
    if facts["curator_trusted"]:
        return "central"
    return "distributed" if facts["secure_aggregation"] else "local"


CASES = [
    (nb08.check_noise_share, noise_share_right, noise_share_every_share_counted),
    (nb08.check_patient_epsilon, patient_epsilon_right, patient_epsilon_sequential),
    (nb08.check_plan_threshold, plan_threshold_right, plan_threshold_smallest_safe),
    (nb08.check_choose_configuration, choose_right, choose_always_local),
]
test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests(CASES)


@pytest.mark.parametrize(("check", "wrong", "words"), [
    (nb08.check_noise_share, noise_share_every_share_counted, "subtracts it"),
    (nb08.check_noise_share, noise_share_colluders_only, "both"),
    (nb08.check_patient_epsilon, patient_epsilon_sequential, "parallel"),
    (nb08.check_patient_epsilon, patient_epsilon_per_round_then_sum, "RDP"),
    (nb08.check_plan_threshold, plan_threshold_smallest_safe, "noise shares with them"),
    (nb08.check_plan_threshold, plan_threshold_never_none, "return None"),
    (nb08.check_choose_configuration, choose_always_local, "one noise draw"),
    (nb08.check_choose_configuration, choose_ignores_threshold, "threshold"),
])
def test_each_typical_mistake_gets_its_own_hint(check, wrong, words):
    result = check(wrong)
    assert not result and words in result.hint


def test_the_scenarios_use_every_configuration():
    chosen = {nb08.reference_configuration(facts) for _, facts in nb08.CONFIGURATION_SCENARIOS}
    assert chosen == {"central", "distributed", "local"}
