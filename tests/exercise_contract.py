"""The contract every notebook's function-taking self-checks keep, as two parametrised tests
a test module adopts with ``test_a, test_b = contract_tests(CASES)``: a right answer passes,
a typical wrong one fails with a hint, an unsolved exercise's NotImplementedError gets through."""

from __future__ import annotations

import pytest

from ppml_helpers import exercises as ex


def _unsolved(*args, **kwargs):
    raise NotImplementedError("Exercise N.M")


def contract_tests(cases):
    """``cases``: ``(check, right_function, wrong_function)`` triples."""
    ids = [c[0].__name__ for c in cases]

    @pytest.mark.parametrize(("check", "right", "wrong"), cases, ids=ids)
    def test_right_passes_wrong_fails_with_a_hint(check, right, wrong):
        ok, bad = check(right), check(wrong)
        assert ok and ex.PASS_MARK in repr(ok)
        assert not bad and bad.hint and ex.FAIL_MARK in repr(bad)

    @pytest.mark.parametrize("check", [c[0] for c in cases], ids=ids)
    def test_unsolved_raises_not_implemented(check):
        with pytest.raises(NotImplementedError):
            check(_unsolved)

    return test_right_passes_wrong_fails_with_a_hint, test_unsolved_raises_not_implemented
