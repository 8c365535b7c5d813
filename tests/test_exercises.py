"""ppml_helpers.exercises: the self-checks of 00_threat_models and CheckResult's display.

Correct learner functions are written here from the exercise statements, not
copied from the package; only the two classification exercises read the
private answer tables (their answers are a judgement, not a computation).
"""

from __future__ import annotations

import math

import pytest
import torch
from exercise_contract import contract_tests

from ppml_helpers.exercises import (
    FAIL_MARK,
    NOT_ATTEMPTED,
    NOT_ATTEMPTED_MARK,
    PASS_MARK,
    SERVER_VIEW_ITEMS,
    THREAT_ACTORS,
    THREAT_BEHAVIOURS,
    THREAT_SCENARIOS,
    CheckResult,
    check_clip_and_noise,
    check_recover_label,
    check_server_view,
    check_threat_models,
    nb00,
)
from ppml_helpers.exercises._core import not_attempted

# --- correct learner answers ----------------------------------------------------------


def good_threat_models():
    return dict(nb00._THREAT_ANSWERS)


def good_server_view():
    return set(nb00._SERVER_SEES)


def good_recover_label(last_weight_grad):
    # Row i of dL/dW is (p_i - y_i) h with h >= 0: only the true row sums below zero.
    row_sums = last_weight_grad.sum(dim=1)
    return min(range(len(row_sums)), key=lambda i: float(row_sums[i]))


def good_clip_and_noise(grads, max_norm, noise_multiplier, generator):
    norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
    factor = 1.0 if norm <= max_norm else max_norm / norm
    std = noise_multiplier * max_norm
    return [g * factor + std * torch.randn(g.shape, generator=generator) for g in grads]


# --- wrong learner answers ------------------------------------------------------------


def wrong_threat_models():
    # Everyone is a malicious aggregator: the actor is off in B, D, E, the behaviour in A, D, E.
    return dict.fromkeys(THREAT_SCENARIOS, ("aggregator", "malicious"))


def wrong_behaviour_only():
    return {k: (actor, "malicious") for k, (actor, _) in nb00._THREAT_ANSWERS.items()}


def wrong_server_view():
    return set(SERVER_VIEW_ITEMS)  # everything, including raw records


def wrong_recover_label(last_weight_grad):
    return int(last_weight_grad.sum(dim=1).argmax())


def clip_per_tensor(grads, max_norm, noise_multiplier, generator):
    out = []
    for g in grads:
        n = float(g.norm())
        out.append(
            g * min(1.0, max_norm / n)
            + noise_multiplier * max_norm * torch.randn(g.shape, generator=generator)
        )
    return out


def clip_always(grads, max_norm, noise_multiplier, generator):
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
    return [
        g * (max_norm / norm)
        + noise_multiplier * max_norm * torch.randn(g.shape, generator=generator)
        for g in grads
    ]


def clip_in_place(grads, max_norm, noise_multiplier, generator):
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
    for g in grads:
        g.mul_(min(1.0, max_norm / norm))
    return grads


def noise_without_max_norm(grads, max_norm, noise_multiplier, generator):
    clipped = good_clip_and_noise(grads, max_norm, 0.0, generator)
    return [g + noise_multiplier * torch.randn(g.shape, generator=generator) for g in clipped]


def returns_one_tensor(grads, max_norm, noise_multiplier, generator):
    return torch.cat([g.flatten() for g in grads])


CHECKS = {
    "threat_models": (check_threat_models, good_threat_models, wrong_threat_models),
    "server_view": (check_server_view, good_server_view, wrong_server_view),
    "recover_label": (check_recover_label, good_recover_label, wrong_recover_label),
    "clip_and_noise": (check_clip_and_noise, good_clip_and_noise, clip_per_tensor),
}
EXERCISE_IDS = {
    "threat_models": "0.1",
    "server_view": "0.2",
    "recover_label": "0.3",
    "clip_and_noise": "0.4",
}


def _assert_failed_with_message_and_hint(result):
    assert isinstance(result, CheckResult)
    assert not result
    assert result.message
    assert result.hint


# --- every check ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_passes_with_correct_function(name):
    check, good, _ = CHECKS[name]
    result = check(good)
    assert result and result.passed, repr(result)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_names_its_exercise(name):
    check, good, _ = CHECKS[name]
    assert check(good).exercise == EXERCISE_IDS[name]


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_fails_with_wrong_function(name):
    check, _, wrong = CHECKS[name]
    _assert_failed_with_message_and_hint(check(wrong))


_, test_unsolved_is_not_attempted = contract_tests(list(CHECKS.values()))


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_turns_learner_exception_into_fail(name):
    check, _, _ = CHECKS[name]

    def buggy(*args, **kwargs):
        return 1 / 0

    result = check(buggy)
    _assert_failed_with_message_and_hint(result)
    assert "ZeroDivisionError" in result.message


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_fails_when_given_a_call_result_not_a_function(name):
    check, _, _ = CHECKS[name]
    result = check(None)
    _assert_failed_with_message_and_hint(result)
    assert "NoneType" in result.message


# --- hints never give the answer ------------------------------------------------------


def test_threat_models_hint_does_not_reveal_pairs():
    result = check_threat_models(wrong_threat_models)
    _assert_failed_with_message_and_hint(result)
    for key, (actor, behaviour) in nb00._THREAT_ANSWERS.items():
        for text in (result.hint, result.message):
            assert f"{key}: {actor}" not in text and f"{key}={actor}" not in text
            assert repr((actor, behaviour)) not in text


def test_threat_models_accepts_the_defensible_malicious_reading_of_d():
    answer = dict(nb00._THREAT_ANSWERS)
    for behaviour in ("honest-but-curious", "malicious"):
        answer["D"] = ("outsider", behaviour)
        result = check_threat_models(lambda answer=answer: dict(answer))
        assert result and "Scenario D:" in result.message and "both readings" in result.message
    answer["A"] = ("aggregator", "malicious")
    assert not check_threat_models(lambda: dict(answer))


def test_threat_models_message_names_wrong_scenarios_only():
    result = check_threat_models(wrong_behaviour_only)
    wrong = sorted(k for k, (_, b) in nb00._THREAT_ANSWERS.items() if b != "malicious" and k != "D")
    assert not result
    assert f"scenario(s) {', '.join(wrong)}" in result.message
    assert "actor" not in result.message


@pytest.mark.parametrize(
    "answer",
    [
        ["A", "B"],
        {"A": ("aggregator", "malicious")},
        dict.fromkeys("ABCDE", ("hospital", "malicious")),
        dict.fromkeys("ABCDE", ("aggregator", "curious")),
        dict.fromkeys("ABCDE", ("aggregator",)),
    ],
    ids=["not_dict", "missing_keys", "bad_actor", "bad_behaviour", "not_pair"],
)
def test_threat_models_malformed_answer_fails(answer):
    _assert_failed_with_message_and_hint(check_threat_models(lambda: answer))


def test_threat_models_vocabulary_is_what_the_answers_use():
    assert {a for a, _ in nb00._THREAT_ANSWERS.values()} <= set(THREAT_ACTORS)
    assert {b for _, b in nb00._THREAT_ANSWERS.values()} <= set(THREAT_BEHAVIOURS)


@pytest.mark.parametrize(
    "answer",
    [set(), set(SERVER_VIEW_ITEMS[:1]), set(SERVER_VIEW_ITEMS) - {SERVER_VIEW_ITEMS[0]}],
    ids=["empty", "raw_records", "almost_all"],
)
def test_server_view_hint_does_not_name_items(answer):
    result = check_server_view(lambda: answer)
    _assert_failed_with_message_and_hint(result)
    for item in SERVER_VIEW_ITEMS:
        assert item not in result.hint and item not in result.message


def test_server_view_accepts_list():
    assert check_server_view(lambda: list(good_server_view()))


@pytest.mark.parametrize("answer", ["each hospital's model update", {"not an item"}, 3])
def test_server_view_malformed_answer_fails(answer):
    _assert_failed_with_message_and_hint(check_server_view(lambda: answer))


def test_recover_label_hint_does_not_give_argmin():
    result = check_recover_label(wrong_recover_label)
    _assert_failed_with_message_and_hint(result)
    assert "argmin" not in result.hint and "min(" not in result.hint


def test_recover_label_accepts_tensor_label():
    assert check_recover_label(lambda g: g.sum(dim=1).argmin())


@pytest.mark.parametrize(
    "wrong",
    [lambda g: str(int(g.sum(1).argmin())), lambda g: None, lambda g: g.sum(dim=1)],
    ids=["str", "none", "row_sums_tensor"],
)
def test_recover_label_non_int_answer_fails(wrong):
    _assert_failed_with_message_and_hint(check_recover_label(wrong))


@pytest.mark.parametrize(
    "wrong",
    [clip_per_tensor, clip_always, clip_in_place, noise_without_max_norm, returns_one_tensor],
)
def test_clip_and_noise_wrong_variants_fail(wrong):
    _assert_failed_with_message_and_hint(check_clip_and_noise(wrong))


def test_clip_and_noise_leaves_learner_inputs_to_learner():
    seen = []

    def spy(grads, max_norm, noise_multiplier, generator):
        seen.append((max_norm, noise_multiplier))
        return good_clip_and_noise(grads, max_norm, noise_multiplier, generator)

    assert check_clip_and_noise(spy)
    assert any(nm > 0 for _, nm in seen) and any(nm == 0 for _, nm in seen)


# --- CheckResult display --------------------------------------------------------------


def test_repr_pass_has_pass_mark():
    text = repr(CheckResult("0.9", True, "all good"))
    assert text.startswith(PASS_MARK) and "0.9" in text and "all good" in text


def test_repr_fail_has_fail_mark_and_hint():
    text = repr(CheckResult("0.9", False, "off by one", "count again"))
    assert text.startswith(FAIL_MARK) and "off by one" in text and "count again" in text
    assert PASS_MARK not in text


def test_repr_fail_without_hint_has_no_hint_line():
    assert "Hint" not in repr(CheckResult("0.9", False, "off"))


@pytest.mark.parametrize("passed", [True, False])
def test_truthiness_follows_passed(passed):
    assert bool(CheckResult("0.9", passed, "m")) is passed


def test_repr_html_escapes_message_and_hint():
    result = CheckResult("<0.9>", False, "<script>alert(1)</script>", "use a < b & c")
    html = result._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "a &lt; b &amp; c" in html
    assert "&lt;0.9&gt;" in html
    assert FAIL_MARK in html


def test_repr_html_pass_shows_pass_mark_and_no_hint():
    html = CheckResult("0.9", True, "fine", "unused hint")._repr_html_()
    assert PASS_MARK in html and FAIL_MARK not in html and "unused hint" not in html


def test_not_attempted_is_a_third_state_neither_pass_nor_fail():
    result = not_attempted("0.9", "complete f()")
    text, html = repr(result), result._repr_html_()
    assert not result and not result.attempted
    assert text == f"{NOT_ATTEMPTED_MARK} Exercise 0.9 {NOT_ATTEMPTED}: complete f(), run its cell, then run this check again."
    assert NOT_ATTEMPTED_MARK in html and NOT_ATTEMPTED in html
    assert PASS_MARK not in text + html and FAIL_MARK not in text + html


def test_a_learner_raising_another_not_implemented_is_still_not_attempted():
    def half_done():
        raise NotImplementedError("TODO")

    result = check_server_view(half_done)
    assert not result.attempted and "fill in the exercise above" in result.message


def test_check_result_is_frozen():
    result = CheckResult("0.9", False, "m")
    with pytest.raises(AttributeError):
        result.passed = True
