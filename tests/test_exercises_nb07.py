"""Self-checks of 07_homomorphic_encryption: right answers pass, typical wrong ones fail with a
hint that does not give the answer, unsolved ones show "not attempted yet"; the reference
answers are checked against ppml_helpers.he (and, for 7.3, against TenSEAL ciphertexts)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from exercise_contract import contract_tests

from ppml_helpers import exercises as ex
from ppml_helpers import he
from ppml_helpers.exercises import nb07

# --- 7.1 ---------------------------------------------------------------------------------


def params_right(depth, scale_bits, outer_bits):
    chain = [outer_bits, *[scale_bits] * depth, outer_bits]
    for n, limit in he.MAX_COEFF_MODULUS_BITS.items():
        if sum(chain) <= limit:
            return n, chain
    return None


def params_depth_plus_one(depth, scale_bits, outer_bits):  # counts the first prime as a level
    return params_right(depth + 1, scale_bits, outer_bits)


def params_strict(depth, scale_bits, outer_bits):  # < instead of <=
    chain = [outer_bits, *[scale_bits] * depth, outer_bits]
    return next(((n, chain) for n, limit in he.MAX_COEFF_MODULUS_BITS.items() if sum(chain) < limit), None)


def params_no_special(depth, scale_bits, outer_bits):  # forgets the special prime counts
    chain = [outer_bits, *[scale_bits] * depth, outer_bits]
    return next(((n, chain) for n, limit in he.MAX_COEFF_MODULUS_BITS.items() if sum(chain[:-1]) <= limit),
                None)


# --- 7.2 ---------------------------------------------------------------------------------


def cts_right(n_samples, n_features, degree):
    return math.ceil(n_samples / (degree // 2)) * n_features


def cts_n_slots(n_samples, n_features, degree):  # N values per ciphertext instead of N/2
    return math.ceil(n_samples / degree) * n_features


def cts_floor(n_samples, n_features, degree):
    return n_samples // (degree // 2) * n_features


def cts_chunks_only(n_samples, n_features, degree):
    return math.ceil(n_samples / (degree // 2))


# --- 7.3 ---------------------------------------------------------------------------------


def scores_right(columns, weights, bias):
    outputs = []
    for k in range(weights.shape[1]):
        acc = columns[0] * weights[0, k]
        for j in range(1, len(columns)):
            acc = acc + columns[j] * weights[j, k]
        outputs.append(acc + bias[k])
    return outputs


def scores_sum_builtin(columns, weights, bias):  # sum() starts at 0: needs 0 + column
    return [sum(col * weights[j, k] for j, col in enumerate(columns)) + bias[k] for k in range(len(bias))]


def scores_no_bias(columns, weights, bias):
    return scores_right(columns, weights, np.zeros_like(bias))


def scores_stacked(columns, weights, bias):  # right on NumPy, impossible on ciphertexts
    x = np.column_stack(columns)
    return list((x @ weights + bias).T)


# --- 7.4 ---------------------------------------------------------------------------------


def expansion_right(length, slots, ciphertext_bytes, bytes_per_value):
    return math.ceil(length / slots) * ciphertext_bytes / (length * bytes_per_value)


def expansion_fractional(length, slots, ciphertext_bytes, bytes_per_value):
    return (length / slots) * ciphertext_bytes / (length * bytes_per_value)


def expansion_inverted(length, slots, ciphertext_bytes, bytes_per_value):
    return 1 / expansion_right(length, slots, ciphertext_bytes, bytes_per_value)


test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests([
    (ex.check_choose_parameters, params_right, params_depth_plus_one),
    (ex.check_ciphertexts_needed, cts_right, cts_n_slots),
    (ex.check_batched_scores, scores_right, scores_no_bias),
    (ex.check_expansion_factor, expansion_right, expansion_fractional),
])


@pytest.mark.parametrize(
    ("check", "wrong", "hint_word"),
    [
        (ex.check_choose_parameters, params_depth_plus_one, "first prime"),
        (ex.check_choose_parameters, params_strict, "≤"),
        (ex.check_choose_parameters, params_no_special, "special"),
        (ex.check_ciphertexts_needed, cts_n_slots, "real values"),
        (ex.check_ciphertexts_needed, cts_floor, "partly filled"),
        (ex.check_ciphertexts_needed, cts_chunks_only, "per feature"),
        (ex.check_batched_scores, scores_no_bias, "bias"),
        (ex.check_batched_scores, scores_stacked, "column × number"),
        (ex.check_expansion_factor, expansion_fractional, "sent whole"),
        (ex.check_expansion_factor, expansion_inverted, "expands"),
    ],
    ids=lambda v: getattr(v, "__name__", v) if callable(v) else None,
)
def test_typical_mistakes_get_their_own_hint(check, wrong, hint_word):
    result = check(wrong)
    assert not result
    assert hint_word in result.hint


def test_sum_builtin_on_columns_passes():
    assert ex.check_batched_scores(scores_sum_builtin)


@pytest.mark.parametrize("case", nb07._PARAMETER_CASES)
def test_reference_parameters_are_secure_and_minimal(case):
    want = nb07._reference_parameters(*case)
    depth, scale, outer = case
    if want is None:
        assert 2 * outer + depth * scale > max(he.MAX_COEFF_MODULUS_BITS.values())
        return
    n, chain = want
    assert he.check_ckks_parameters(poly_modulus_degree=n, coeff_mod_bit_sizes=chain,
                                    global_scale_bits=scale) == tuple(chain)
    report = he.parameter_report(poly_modulus_degree=n, coeff_mod_bit_sizes=chain, global_scale_bits=scale)
    assert report.valid and report.depth == depth
    smaller = [m for m in he.MAX_COEFF_MODULUS_BITS if m < n]
    if smaller:
        assert not he.parameter_report(poly_modulus_degree=smaller[-1], coeff_mod_bit_sizes=chain,
                                       global_scale_bits=scale).secure


def test_limit_cases_are_exactly_at_a_limit():
    at_limit = [c for c in nb07._PARAMETER_CASES
                if sum(nb07._chain(*c)) in he.MAX_COEFF_MODULUS_BITS.values()]
    assert len(at_limit) >= 2


def test_reference_ciphertext_count_matches_encrypt_batch_features():
    ctx = he.ckks_context(poly_modulus_degree=2048, coeff_mod_bit_sizes=[27, 27], global_scale_bits=20,
                          galois_keys=False)
    x = np.random.default_rng(0).uniform(0, 1, (1025, 3))
    batch = he.encrypt_batch_features(ctx, x)
    assert batch.num_ciphertexts == nb07._reference_ciphertexts(1025, 3, 2048) == 6  # 2 chunks of 1024 slots


def test_right_batched_scores_run_on_tenseal_ciphertexts():
    import tenseal as ts

    ctx = he.CKKS_INFERENCE.context(galois_keys=False)
    rng = np.random.default_rng(1)
    x, w, b = rng.uniform(0, 1, (6, 4)), rng.normal(0, 1, (4, 2)), rng.normal(0, 1, 2)
    for fn in (scores_right, scores_sum_builtin):
        outputs = fn([ts.ckks_vector(ctx, col.tolist()) for col in x.T], w, b)
        got = np.column_stack([np.asarray(v.decrypt()) for v in outputs])
        np.testing.assert_allclose(got, x @ w + b, atol=1e-4)


def test_reference_expansion_matches_size_report():
    ctx = he.CKKS_AGGREGATION.context(galois_keys=False)
    update = he.encrypt_update(ctx, np.linspace(-1, 1, 5000))
    report = he.size_report(update, plaintext_dtype="float32")
    per_ct = len(update.chunks[0].serialize())
    assert all(len(c.serialize()) == per_ct for c in update.chunks)  # the last, partly filled, costs as much
    assert report.expansion_factor == pytest.approx(nb07._reference_expansion(5000, 4096, per_ct, 4))


def test_slot_vector_refuses_what_a_ciphertext_cannot_do():
    v = nb07._SlotVector([1.0, 2.0])
    for bad in (lambda: v * v, lambda: v * np.ones(2), lambda: v[0], lambda: np.asarray(v), lambda: len(v)):
        with pytest.raises(TypeError, match="ciphertext"):
            bad()
    assert (2.0 * v + 1 + v).decrypt() == [4.0, 7.0]
