"""Self-checks of appendix A1 (TensorFlow Federated): right answers pass, typical mistakes
fail with a hint, unsolved exercises say "not attempted yet"."""

from __future__ import annotations

import numpy as np
from exercise_contract import contract_tests

from ppml_helpers import exercises as ex
from ppml_helpers.exercises import a1


def _right_keras(state):
    return [np.asarray(v).T if np.asarray(v).ndim == 2 else np.asarray(v) for v in state.values()]


def _reshaped_keras(state):  # the shape Keras wants, reached by reshape instead of transpose
    return [np.asarray(v).reshape(np.asarray(v).shape[::-1]) if np.asarray(v).ndim == 2 else np.asarray(v)
            for v in state.values()]


def _right_sigma(sigma, batch, micro):
    return sigma if micro in (None, batch) else sigma / 2


def _never_halved(sigma, batch, micro):
    return sigma


def _right_map():
    return dict(a1._FLOWER_ANSWERS)


def _no_simulation_engine():
    return {**a1._FLOWER_ANSWERS, "execution_context": "no counterpart"}


test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests([
    (ex.check_keras_weights, _right_keras, _reshaped_keras),
    (ex.check_effective_noise_multiplier, _right_sigma, _never_halved),
    (ex.check_tff_to_flower, _right_map, _no_simulation_engine),
])


def test_untransposed_weights_get_the_transpose_hint():
    result = ex.check_keras_weights(lambda state: [np.asarray(v) for v in state.values()])
    assert not result and "transpose" in result.hint


def test_halving_always_is_caught_on_per_example_microbatches():
    result = ex.check_effective_noise_multiplier(lambda s, b, m: s / 2)
    assert not result and "one example per microbatch" in result.hint


def test_a_choice_outside_the_list_is_named():
    result = ex.check_tff_to_flower(lambda: {**a1._FLOWER_ANSWERS, "secure_sum": "Opacus"})
    assert not result and "'Opacus' is not one of the choices" in result.message


def test_every_concept_has_an_answer_and_a_hint_among_the_choices():
    assert set(a1._FLOWER_ANSWERS) == set(a1.TFF_CONCEPTS) == set(a1._FLOWER_HINTS)
    assert set(a1._FLOWER_ANSWERS.values()) <= set(a1.FLOWER_COUNTERPARTS)
