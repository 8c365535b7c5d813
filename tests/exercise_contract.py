"""The contract every notebook's function-taking self-checks keep, as two parametrised tests
a test module adopts with ``test_a, test_b = contract_tests(CASES)``: a right answer passes,
a typical wrong one fails with a hint, an unsolved exercise (the NotImplementedError that
`ppml build` writes) shows "not attempted yet" with its exercise number instead of raising."""

from __future__ import annotations

import pytest

from ppml_helpers import exercises as ex


def _unsolved(*args, **kwargs):
    raise NotImplementedError("Exercise 9.9: complete _unsolved()")


def contract_tests(cases):
    """``cases``: ``(check, right_function, wrong_function)`` triples."""
    ids = [c[0].__name__ for c in cases]

    @pytest.mark.parametrize(("check", "right", "wrong"), cases, ids=ids)
    def test_right_passes_wrong_fails_with_a_hint(check, right, wrong):
        ok, bad = check(right), check(wrong)
        assert ok and ex.PASS_MARK in repr(ok)
        assert not bad and bad.hint and ex.FAIL_MARK in repr(bad)

    @pytest.mark.parametrize(("check", "right"), [c[:2] for c in cases], ids=ids)
    def test_unsolved_is_not_attempted(check, right):
        result = check(_unsolved)  # returns, never raises
        exercise = check(right).exercise
        assert not result and not result.attempted and not result.hint
        shown = repr(result)
        assert shown.startswith(f"{ex.NOT_ATTEMPTED_MARK} Exercise {exercise} {ex.NOT_ATTEMPTED}:"), shown
        assert "complete _unsolved()" in shown and ex.FAIL_MARK not in shown
        assert ex.NOT_ATTEMPTED in result._repr_html_()

    return test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted
