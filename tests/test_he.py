"""ppml_helpers.he: secure parameters, batched and per-sample encrypted inference, aggregation.

Oracles: SEAL's own limits (``CoeffModulus.MaxBitCount``) and verdicts
(``SEALContext.parameters_error_name``), the plaintext computation in float64
(CKKS results within ``TOL``; observed errors are about 1e-6 at scale 2^40),
and the sigmoid on dense grids. TenSEAL really encrypts and decrypts; contexts
use N = 8192 (or less) so the file stays fast.
"""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
import tenseal as ts
import torch
from tenseal import sealapi

from ppml_helpers import he
from ppml_helpers.he import context, params, precision, security, sigmoid
from ppml_helpers.models import MLP, LogisticRegression

TOL = 1e-4  # max |encrypted − plaintext| accepted for scores and sums (scale 2^40, depth ≤ 1)
SIGMOID_TOL = 1e-3  # extra CKKS error accepted after the cubic at scale 2^30

# At the 128-bit limit of each degree with every other rule met; the next set is one bit over
# (the special prime one bit larger, still a valid chain otherwise).
AT_LIMIT = {
    1024: ([13, 14], 12),
    2048: ([27, 27], 20),
    4096: ([40, 29, 40], 29),
    8192: ([59, 50, 50, 59], 50),
    16384: ([59, *[40] * 8, 59], 40),
    32768: ([51, *[41] * 19, 51], 41),
}


def _one_bit_over(sizes):
    return [*sizes[:-1], sizes[-1] + 1]


@pytest.fixture(scope="module")
def ctx():
    """Depth 1, N = 8192, with Galois keys (per-sample paths need them)."""
    return he.CKKS_INFERENCE.context(galois_keys=True)


@pytest.fixture(scope="module")
def agg_ctx():
    return he.CKKS_AGGREGATION.context(galois_keys=False)


@pytest.fixture(scope="module")
def model_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(300, 20))
    w = rng.normal(0, 1, size=(20, 4))
    b = rng.normal(0, 1, size=4)
    return x, w, b


@pytest.mark.parametrize("module", [params, security, context, sigmoid, precision], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


# --- security ---------------------------------------------------------------------------


def test_table_is_seals():
    seal = {n: sealapi.CoeffModulus.MaxBitCount(n, sealapi.SEC_LEVEL_TYPE.TC128) for n in he.MAX_COEFF_MODULUS_BITS}
    assert seal == he.MAX_COEFF_MODULUS_BITS == {1024: 27, 2048: 54, 4096: 109, 8192: 218, 16384: 438, 32768: 881}


@pytest.mark.parametrize("n", list(AT_LIMIT))
def test_each_degree_at_its_limit_passes(n):
    sizes, scale = AT_LIMIT[n]
    assert sum(sizes) == he.MAX_COEFF_MODULUS_BITS[n]
    got = he.check_ckks_parameters(poly_modulus_degree=n, coeff_mod_bit_sizes=sizes, global_scale_bits=scale)
    assert got == tuple(sizes)
    report = he.parameter_report(poly_modulus_degree=n, coeff_mod_bit_sizes=sizes, global_scale_bits=scale)
    assert report.valid and report.secure and report.verdict.startswith("128-bit secure")


@pytest.mark.parametrize("n", list(AT_LIMIT))
def test_each_degree_one_bit_over_raises_naming_the_limit(n):
    sizes, scale = AT_LIMIT[n]
    over, limit = _one_bit_over(sizes), he.MAX_COEFF_MODULUS_BITS[n]
    with pytest.raises(he.InsecureParametersError, match=rf"is {limit + 1} > {limit}, the 128-bit limit") as err:
        he.ckks_context(poly_modulus_degree=n, coeff_mod_bit_sizes=over, global_scale_bits=scale)
    assert isinstance(err.value, ValueError)
    assert f"poly_modulus_degree {n}" in str(err.value) and "coeff_mod_bit_sizes" in str(err.value)
    if n < 32768:  # the fix names the next degree and its limit
        assert f"or use poly_modulus_degree {2 * n} (limit {he.MAX_COEFF_MODULUS_BITS[2 * n]})" in str(err.value)
    report = he.parameter_report(poly_modulus_degree=n, coeff_mod_bit_sizes=over, global_scale_bits=scale)
    assert not report.secure and report.verdict.startswith("insecure: sum of coeff_mod_bit_sizes")


@pytest.mark.parametrize("n", [2048, 4096, 8192, 16384])
def test_seal_agrees_at_and_over_the_limit(n):
    sizes, _ = AT_LIMIT[n]
    assert he.seal_parameter_check(poly_modulus_degree=n, coeff_mod_bit_sizes=sizes) == ("success", "valid")
    name, message = he.seal_parameter_check(poly_modulus_degree=n, coeff_mod_bit_sizes=_one_bit_over(sizes))
    assert name == "invalid_parameters_insecure"
    assert "HomomorphicEncryption.org security standard" in message


@pytest.mark.parametrize("n", [2048, 4096, 8192])
def test_contexts_at_the_limit_build(n):
    sizes, scale = AT_LIMIT[n]
    ctx = he.ckks_context(poly_modulus_degree=n, coeff_mod_bit_sizes=sizes, global_scale_bits=scale,
                          galois_keys=False)
    info = he.context_info(ctx)
    assert (info.poly_modulus_degree, info.coeff_mod_bit_sizes, info.global_scale_bits) == (n, tuple(sizes), scale)


def test_degree_1024_has_no_room_for_two_primes_seal_says_so():
    sizes, scale = AT_LIMIT[1024]  # passes our checks, but no 13-bit prime is 1 mod 2048
    with pytest.raises(ValueError, match=r"TenSEAL \(SEAL\) refused poly_modulus_degree=1024"):
        he.ckks_context(poly_modulus_degree=1024, coeff_mod_bit_sizes=sizes, global_scale_bits=scale)


def test_tenseal_alone_refuses_tersely_we_name_the_limit():
    with pytest.raises(ValueError) as seal_err:
        ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[60] * 5)
    assert str(seal_err.value) == he.SEAL_REFUSAL == "encryption parameters are not set correctly"
    with pytest.raises(he.InsecureParametersError) as ours:
        he.ckks_context(poly_modulus_degree=8192, coeff_mod_bit_sizes=[60] * 5, global_scale_bits=60)
    message = str(ours.value)
    assert "sum of coeff_mod_bit_sizes is 300 > 218" in message
    assert "drop 82 bits" in message and "poly_modulus_degree 16384 (limit 438)" in message


@pytest.mark.parametrize("preset", [he.CKKS_INFERENCE, he.CKKS_SIGMOID, he.CKKS_AGGREGATION],
                         ids=["inference", "sigmoid", "aggregation"])
def test_secure_presets_pass(preset):
    ctx = preset.context(galois_keys=False)
    info = he.context_info(ctx)
    assert info.coeff_mod_bit_sizes == preset.coeff_mod_bit_sizes
    assert (info.slots, info.depth, info.global_scale_bits) == (preset.slots, preset.depth, preset.global_scale_bits)
    assert sum(preset.coeff_mod_bit_sizes) <= he.MAX_COEFF_MODULUS_BITS[preset.poly_modulus_degree]
    assert preset.report().valid


def test_bfv_default_is_exact():
    ctx = he.BFV_DEFAULT.context(galois_keys=False)
    info = he.context_info(ctx)
    assert info.scheme == "bfv" and sum(info.coeff_mod_bit_sizes) == 218 and info.slots == 8192
    total = ts.bfv_vector(ctx, [1, -2, 300_000]) + ts.bfv_vector(ctx, [4, 5, 6])
    assert total.decrypt() == [5, 3, 300_006]


def test_bfv_refusals():
    with pytest.raises(ValueError, match=r"plain_modulus must be a prime ≡ 1 mod 2N = 16384.*Got 1000 .*65537"):
        he.bfv_context(poly_modulus_degree=8192, plain_modulus=1000)
    with pytest.raises(ValueError, match=r"plain_modulus .*Got 65539 \(prime, ≡ 3 mod 16384\)"):
        he.bfv_context(poly_modulus_degree=8192, plain_modulus=65539)
    with pytest.raises(ValueError, match=r"at least two primes.*SEAL's 128-bit BFV default for N = 2048"):
        he.bfv_context(poly_modulus_degree=2048, plain_modulus=65537)
    with pytest.raises(he.InsecureParametersError, match=r"is 150 > 109"):
        he.bfv_context(poly_modulus_degree=4096, plain_modulus=65537, coeff_mod_bit_sizes=[50, 50, 50])


SCALE_CASES = [
    ([60, 40, 40, 60], 30, r"middle primes are \[40, 40\] but global_scale_bits=30: rescaling divides "
                           r"by the primes, so the scale drifts; use middle primes of 30 bits"),
    ([40, 40, 40, 60], 40, r"coeff_mod_bit_sizes\[0\] \(the first prime\) is 40 bits but global_scale_bits=40"
                           r".*only \|x\| < 0.5 decrypts"),
    ([60, 40, 40, 40], 40, r"coeff_mod_bit_sizes\[-1\] \(the special prime.*is 40 bits, smaller than the "
                           r"largest other prime \(60 bits\)"),
    ([60, 40, 60], 0, r"global_scale_bits must be an integer from 1 to 60.*Got 0"),
    ([60, 40, 60], 40.0, r"global_scale_bits must be an integer.*Got 40.0"),
]


@pytest.mark.parametrize(("sizes", "scale", "match"), SCALE_CASES)
def test_inconsistent_scales_raise(sizes, scale, match):
    with pytest.raises(ValueError, match=match):
        he.ckks_context(poly_modulus_degree=8192, coeff_mod_bit_sizes=sizes, global_scale_bits=scale)


@pytest.mark.parametrize(("n", "sizes", "match"), [
    (3000, [60, 40, 60], r"poly_modulus_degree must be one of 1024, 2048, .*Got 3000"),
    (8192.0, [60, 40, 60], r"poly_modulus_degree must be one of .*Got 8192.0"),
    (8192, [60], r"coeff_mod_bit_sizes must list at least two primes.*Got \[60\]"),
    (8192, [61, 40, 61], r"coeff_mod_bit_sizes\[0\] is 61 bits; each prime must have 15 to 60 bits"),
    (8192, [60, 14, 60], r"coeff_mod_bit_sizes\[1\] is 14 bits; .*≡ 1 mod 2N = 16384"),
    (8192, "60,40,60", r"coeff_mod_bit_sizes must be a list of prime sizes"),
    (8192, [60, 40.5, 60], r"coeff_mod_bit_sizes must hold integers"),
])  # fmt: skip
def test_bad_shapes_raise(n, sizes, match):
    with pytest.raises(ValueError, match=match):
        he.ckks_context(poly_modulus_degree=n, coeff_mod_bit_sizes=sizes, global_scale_bits=40)


@pytest.mark.parametrize("kwargs", [
    {"poly_modulus_degree": None, "coeff_mod_bit_sizes": None, "global_scale_bits": None},
    {"poly_modulus_degree": 8192, "coeff_mod_bit_sizes": "abc", "global_scale_bits": "x"},
    {"poly_modulus_degree": 8192, "coeff_mod_bit_sizes": [60, 40.5], "global_scale_bits": 40},
    {"poly_modulus_degree": 8192, "coeff_mod_bit_sizes": [], "global_scale_bits": 40},
    {"poly_modulus_degree": 4096, "coeff_mod_bit_sizes": [60] * 20, "global_scale_bits": 70},
])  # fmt: skip
def test_parameter_report_never_raises(kwargs):
    report = he.parameter_report(**kwargs)
    assert not report.valid and report.problems and report.verdict.split(":")[0] in ("invalid", "insecure")


def test_parameter_report_numbers():
    report = he.parameter_report(poly_modulus_degree=8192, coeff_mod_bit_sizes=[60, 40, 40, 60], global_scale_bits=40)
    assert (report.total_bits, report.max_bits, report.slots, report.depth) == (200, 218, 4096, 2)
    assert report.ciphertext_bytes == 2 * 8192 * 3 * 8 and report.max_abs_value == 2.0**19
    insecure = he.parameter_report(poly_modulus_degree=8192, coeff_mod_bit_sizes=[60] * 5, global_scale_bits=60)
    assert not insecure.secure and len(insecure.problems) == 2  # the limit, and the first prime vs scale
    with pytest.raises(ValueError, match=r"scheme must be 'ckks' or 'bfv'.*Got 'rsa'"):
        he.parameter_report(poly_modulus_degree=8192, coeff_mod_bit_sizes=[60, 60], scheme="rsa")


def test_ciphertext_bytes_estimate_matches_tenseal(ctx):
    report = he.CKKS_INFERENCE.report()
    serialized = len(ts.ckks_vector(ctx, [0.5] * 4096).serialize())
    assert 0.8 * report.ciphertext_bytes < serialized < 1.05 * report.ciphertext_bytes


def test_parameter_table():
    table = he.parameter_table()
    assert list(table.index) == list(he.MAX_COEFF_MODULUS_BITS)
    row = table.loc[8192]
    assert (row.max_coeff_modulus_bits, row.slots, row.max_depth, row.example) == (218, 4096, 2, "60 + 40×2 + 60")
    assert table.loc[32768, "max_depth"] == 19 and table.loc[4096, "max_depth"] is pd.NA
    assert he.parameter_table(scale_bits=20, outer_bits=40).loc[4096, "max_depth"] == 1  # TenSEAL's [40, 20, 40]
    with pytest.raises(ValueError, match=r"outer_bits must exceed scale_bits"):
        he.parameter_table(scale_bits=40, outer_bits=40)
    with pytest.raises(ValueError, match=r"scale_bits must be an integer from 1 to 60.*Got 0"):
        he.parameter_table(scale_bits=0)


def test_key_sizes(ctx, agg_ctx):
    keys = he.key_sizes(ctx)
    assert keys.galois_keys > 10 * keys.relin_keys > 10 * keys.public_key > 0 and keys.secret_key > 0
    assert he.key_sizes(agg_ctx).galois_keys == 0


# --- batched and per-sample inference ------------------------------------------------


def test_batched_scores_and_predictions_match_plaintext(ctx, model_data):
    x, w, b = model_data
    plain = he.plaintext_linear(x, w, b)
    gaps = np.diff(np.sort(plain, axis=1)[:, -2:], axis=1)
    assert gaps.min() > 2 * TOL  # no near-tie that CKKS error could flip
    pred = he.predict_batched(ctx, x, w, b)
    assert he.precision_report(pred.scores, plain).max_abs_error < TOL
    np.testing.assert_array_equal(pred.labels, plain.argmax(1))


def test_batched_steps_one_ciphertext_per_feature_no_galois_keys(agg_ctx, model_data):
    x, w, b = model_data
    ctx = he.CKKS_INFERENCE.context(galois_keys=False)
    batch = he.encrypt_batch_features(ctx, x)
    assert (batch.num_ciphertexts, batch.chunk_sizes, batch.n_features) == (20, (300,), 20)
    scores = he.encrypted_linear(batch, w, b)
    assert len(scores.chunks[0]) == 4
    np.testing.assert_allclose(he.decrypt_scores(scores), he.plaintext_linear(x, w, b), atol=TOL, rtol=0)
    with pytest.raises(ValueError, match=r"depth 0 .*CKKS_INFERENCE"):
        he.encrypted_linear(he.encrypt_batch_features(agg_ctx, x), w, b)


def test_batched_binary_weights(ctx, model_data):
    x, w, _ = model_data
    pred = he.predict_batched(ctx, x, w[:, 0], 0.25)
    plain = x @ w[:, 0] + 0.25
    assert pred.scores.shape == (300,)
    np.testing.assert_allclose(pred.scores, plain, atol=TOL, rtol=0)
    np.testing.assert_array_equal(pred.labels, (plain > 0).astype(int))


def test_chunking_beyond_the_slots(ctx):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4096 + 5, 3))
    w, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    batch = he.encrypt_batch_features(ctx, x)
    assert batch.chunk_sizes == (4096, 5)
    scores = he.decrypt_scores(he.encrypted_linear(batch, w, b))
    assert scores.shape == (4101, 2)
    np.testing.assert_allclose(scores, x @ w + b, atol=TOL, rtol=0)


@pytest.mark.parametrize("method", ["mm", "dot"])
def test_per_sample_matches_plaintext(ctx, model_data, method):
    x, w, b = model_data
    pred = he.predict_per_sample(ctx, x[:3], w, b, method=method)
    plain = he.plaintext_linear(x[:3], w, b)
    np.testing.assert_allclose(pred.scores, plain, atol=TOL, rtol=0)
    np.testing.assert_array_equal(pred.labels, plain.argmax(1))


def test_per_sample_needs_galois_keys(model_data):
    x, w, b = model_data
    with pytest.raises(ValueError, match=r"no Galois keys.*galois_keys=True"):
        he.predict_per_sample(he.CKKS_INFERENCE.context(galois_keys=False), x[:1], w, b)


def test_linear_parameters_from_torch():
    torch.manual_seed(0)
    model = LogisticRegression(in_features=6, num_classes=3)
    w, b = he.linear_parameters(model)
    x = torch.rand(5, 6)
    np.testing.assert_allclose(x.double().numpy() @ w + b, model(x).detach().double().numpy(), atol=1e-6)
    w1, b1 = he.linear_parameters(torch.nn.Linear(6, 1))
    assert w1.shape == (6,) and isinstance(b1, float)
    with pytest.raises(ValueError, match=r"model must hold exactly one nn.Linear"):
        he.linear_parameters(MLP())


# --- sigmoid ---------------------------------------------------------------------------


def test_sigmoid_approximation_error_bound_dense_grid():
    approx = he.sigmoid_approximation()
    assert approx.coefficients[0] == 0.5 and approx.coefficients[2] == 0.0 and approx.depth == 2
    assert approx.coefficients[1] == pytest.approx(0.197, abs=2e-3)  # TenSEAL's tutorial: 0.197
    assert approx.coefficients[3] == pytest.approx(-0.004, abs=5e-4)  # and −0.004
    x = np.linspace(-5, 5, 400_001)
    error = np.abs(approx(x) - 1 / (1 + np.exp(-x))).max()
    assert error <= approx.max_abs_error + 1e-9 and error < 0.0609  # the documented 0.0608
    wider = np.linspace(-8, 8, 1001)
    assert np.abs(approx(wider) - 1 / (1 + np.exp(-wider))).max() > 0.5  # the range matters


def test_encrypted_sigmoid_after_linear_layer():
    ctx = he.CKKS_SIGMOID.context(galois_keys=False)
    approx = he.sigmoid_approximation()
    x = np.array([[-1.0, 0.5], [0.25, 0.25], [2.0, -1.5], [1.5, 1.0]])
    w, b = np.array([2.0, 1.5]), 0.5
    z = x @ w + b
    assert np.abs(z).max() <= approx.interval
    enc = he.encrypted_sigmoid(he.encrypted_linear(he.encrypt_batch_features(ctx, x), w, b), approx)
    out = he.decrypt_scores(enc)
    np.testing.assert_allclose(out, approx(z), atol=SIGMOID_TOL, rtol=0)
    assert np.abs(out - 1 / (1 + np.exp(-z))).max() < approx.max_abs_error + SIGMOID_TOL


def test_polyval_depth_and_refusal(ctx):
    assert [he.polyval_depth(d) for d in (0, 1, 2, 3, 4, 7, 8)] == [0, 1, 2, 2, 3, 3, 4]
    vector = ts.ckks_vector(ctx, [0.1, 0.2])
    assert he.levels_left(vector) == 1
    with pytest.raises(ValueError, match=r"1 multiplicative level\(s\) left but a degree-3 polynomial needs 2"):
        he.encrypted_polyval(vector, he.sigmoid_approximation())


# --- aggregation ---------------------------------------------------------------------


@pytest.mark.parametrize("clients", [3, 10])
def test_encrypted_aggregation_equals_plaintext_sum(agg_ctx, clients):
    rng = np.random.default_rng(clients)
    length = 2 * 4096 + 1000  # three ciphertexts, the last one partly filled
    updates = [rng.normal(0, 0.1, size=length).astype(np.float32) for _ in range(clients)]
    encrypted = [he.encrypt_update(agg_ctx, u) for u in updates]
    assert encrypted[0].num_ciphertexts == 3
    total = he.decrypt_update(he.aggregate(encrypted))
    assert total.shape == (length,)
    assert he.precision_report(total, np.sum(np.asarray(updates, dtype=np.float64), axis=0)).max_abs_error < TOL


def test_aggregation_of_torch_tensors_and_sizes(agg_ctx, ctx):
    update = torch.arange(6.0).reshape(2, 3)
    enc = he.encrypt_update(agg_ctx, update)
    np.testing.assert_allclose(he.decrypt_update(he.aggregate([enc, enc])), 2 * np.arange(6.0), atol=TOL)
    full = he.encrypt_update(agg_ctx, np.ones(4096))
    r32, r64 = he.size_report(full), he.size_report(full, plaintext_dtype="float64")
    assert r32.ciphertext_bytes == len(full.chunks[0].serialize()) and r32.plaintext_bytes == 4096 * 4
    assert r32.expansion_factor == pytest.approx(2 * r64.expansion_factor)
    assert 6 < r32.expansion_factor < 9  # one 60-bit data prime: ~2 · 8192 · 60 bits per 4096 floats
    deeper = he.size_report(he.encrypt_update(ctx, np.ones(4096)))  # two data primes: about twice
    assert 1.6 < deeper.expansion_factor / r32.expansion_factor < 2.1


def test_decrypt_needs_the_secret_key(agg_ctx):
    public = agg_ctx.copy()
    public.make_context_public()
    enc = he.encrypt_update(public, np.ones(3))
    with pytest.raises(ValueError, match=r"no secret key.*only the key holder can decrypt"):
        he.decrypt_update(enc)


# --- precision and bad inputs ----------------------------------------------------------


def test_precision_report():
    report = he.precision_report([1.0, 2.5, -1.0], [1.0, 2.0, -1.25])
    assert report == (0.5, 0.25, 3) and report.bits == 1.0
    assert he.precision_report([1.0], [1.0]).bits == float("inf")


_X, _W, _B = np.ones((4, 3)), np.ones((3, 2)), np.zeros(2)

BAD_INPUTS = [
    ("weights", lambda c, a: he.predict_batched(c, _X, np.ones((4, 2)), _B), ValueError, r"weights must have shape \[3\].*Got shape \(4, 2\)"),
    ("bias", lambda c, a: he.predict_batched(c, _X, _W, np.zeros(3)), ValueError, r"bias must be shape \[2\].*Got shape \(3,\)"),
    ("x-1d", lambda c, a: he.predict_batched(c, np.ones(3), _W, _B), ValueError, r"x must have shape \[samples, features...\]"),
    ("x-nan", lambda c, a: he.predict_batched(c, _X * np.nan, _W, _B), ValueError, r"x must be finite"),
    ("context-type", lambda c, a: he.predict_batched("ctx", _X, _W, _B), TypeError, r"context must be a tenseal.Context.*Got str"),
    ("context-bfv", lambda c, a: he.encrypt_update(he.BFV_DEFAULT.context(galois_keys=False), _B), ValueError, r"context must be a CKKS context. Got a BFV"),
    ("method", lambda c, a: he.predict_per_sample(c, _X, _W, _B, method="conv"), ValueError, r"method must be one of \('mm', 'dot'\). Got 'conv'"),
    ("batch", lambda c, a: he.encrypted_linear(_X, _W, _B), TypeError, r"batch must be an EncryptedBatch"),
    ("updates-empty", lambda c, a: he.aggregate([]), ValueError, r"updates must be a non-empty list"),
    ("updates-lengths", lambda c, a: he.aggregate([he.encrypt_update(a, np.ones(5)), he.encrypt_update(a, np.ones(6))]), ValueError, r"updates must all have the same length.*\[5, 6\]"),
    ("vector", lambda c, a: he.encrypt_update(a, []), ValueError, r"vector must be non-empty"),
    ("plaintext_dtype", lambda c, a: he.size_report(he.encrypt_update(a, _B), plaintext_dtype="int8"), ValueError, r"plaintext_dtype must be one of \('float32', 'float64'\). Got 'int8'"),
    ("degree", lambda c, a: he.sigmoid_approximation(degree=4), ValueError, r"degree must be an odd integer from 1 to 15. Got 4"),
    ("interval", lambda c, a: he.sigmoid_approximation(interval=-1), ValueError, r"interval must be a positive finite number.*Got -1"),
    ("shapes", lambda c, a: he.precision_report([1.0, 2.0], [1.0]), ValueError, r"encrypted and plaintext must have the same shape"),
    ("galois_keys", lambda c, a: he.ckks_context(poly_modulus_degree=8192, coeff_mod_bit_sizes=[60, 60], global_scale_bits=40, galois_keys="yes"), ValueError, r"galois_keys must be True or False. Got 'yes'"),
    ("plain_modulus", lambda c, a: he.bfv_context(poly_modulus_degree=8192, plain_modulus=None), ValueError, r"plain_modulus must be an integer prime. Got None"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "kind", "match"), [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS])
def test_bad_inputs_name_the_argument(ctx, agg_ctx, call, kind, match):
    with pytest.raises(kind, match=match):
        call(ctx, agg_ctx)
