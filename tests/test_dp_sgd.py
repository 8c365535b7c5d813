"""DP-SGD from scratch (ppml_helpers.dp.sgd): per-example gradients, clipping, noise,
Poisson sampling and accounting, checked against plain autograd and against Opacus."""

from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from opacus import GradSampleModule
from opacus.accountants import RDPAccountant as OpacusRDP
from opacus.optimizers import DPOptimizer
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from torch import nn

from ppml_helpers.data import load_mnist
from ppml_helpers.dp.noise import NoiseSource
from ppml_helpers.dp.rdp import RDPAccountant
from ppml_helpers.dp.sgd import (
    DPHistory,
    add_noise,
    clip_and_sum,
    dp_sgd_step,
    per_sample_gradients,
    poisson_sample,
    steps_per_epoch,
    train_dp_sgd,
)
from ppml_helpers.models import LogisticRegression, SmallCNN


def _batch(n: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 28, 28, generator=gen), torch.randint(0, 10, (n,), generator=gen)


def _model(make, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return make()


@pytest.fixture(scope="module")
def mnist_small(data_dir):
    x, y = load_mnist("train", data_dir=data_dir)
    xt, yt = load_mnist("test", data_dir=data_dir)
    return (x[:2000], y[:2000]), (xt[:1000], yt[:1000])


# --- per-example gradients --------------------------------------------------------------------


@pytest.mark.parametrize("make", [LogisticRegression, SmallCNN], ids=["logreg", "smallcnn"])
def test_per_sample_gradients_equal_a_loop_of_backward_calls(make):
    # Arrange
    model = _model(make)
    x, y = _batch(8)
    # Act
    grads = per_sample_gradients(model, x, y)
    # Assert: one loss.backward() per example gives the same gradients (float rounding: 1e-5).
    for i in range(len(x)):
        model.zero_grad()
        F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]).backward()
        for name, p in model.named_parameters():
            assert grads[name].shape == (len(x), *p.shape)
            torch.testing.assert_close(grads[name][i], p.grad, rtol=1e-5, atol=1e-6)


def test_per_sample_gradients_of_an_empty_batch_are_empty():
    grads = per_sample_gradients(_model(SmallCNN), *_batch(0))
    assert all(g.shape[0] == 0 for g in grads.values())


def test_batchnorm_is_refused_with_the_reason():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.BatchNorm1d(10))
    with pytest.raises(ValueError, match="BatchNorm mixes the examples"):
        per_sample_gradients(model, *_batch(4))


# --- the key test: same batch, noise off, same gradient as Opacus ------------------------------


def _close_to_scale(ours: torch.Tensor, theirs: torch.Tensor, rel: float) -> bool:
    """Largest difference at most ``rel`` times the largest entry (entries near 0 cancel)."""
    return float((ours - theirs).abs().max()) <= rel * float(theirs.abs().max())


@pytest.mark.parametrize("make", [LogisticRegression, SmallCNN], ids=["logreg", "smallcnn"])
@pytest.mark.parametrize("expected_batch_size", [32, 40], ids=["drawn=expected", "drawn<expected"])
def test_clipped_gradient_matches_opacus_with_noise_off(make, expected_batch_size):
    # Arrange: the same model twice, one wrapped by Opacus; C small enough to clip most examples.
    clip, lr = 0.05, 0.5
    ours = _model(make)
    theirs = copy.deepcopy(ours)
    x, y = _batch(32)
    norms = clip_and_sum(per_sample_gradients(ours, x, y), max_grad_norm=clip).norms
    assert (norms > clip).float().mean() >= 0.9, "clipping must be active for most examples"
    gsm = GradSampleModule(theirs)
    opt = DPOptimizer(
        torch.optim.SGD(theirs.parameters(), lr=lr), noise_multiplier=0.0, max_grad_norm=clip,
        expected_batch_size=expected_batch_size,
    )
    # Act: one step each on the same batch.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Opacus's full-backward-hook notice
        opt.zero_grad()
        F.cross_entropy(gsm(x), y).backward()
        opt.step()
    info = dp_sgd_step(
        ours, torch.optim.SGD(ours.parameters(), lr=lr), x, y, noise_multiplier=0.0,
        max_grad_norm=clip, expected_batch_size=expected_batch_size, noise=None,
    )
    # Assert: per parameter, gradients within 1e-6 of their scale (measured: <= 2.6e-7 for the
    # CNN, whose per-example gradients Opacus computes by unfolding; exact for the linear model),
    # and the updated parameters within 1e-6 elementwise.
    assert info.batch_size == 32
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert _close_to_scale(p.grad, q.grad, 1e-6), name
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7, msg=name)


# --- clipping ----------------------------------------------------------------------------------


def test_clipping_bounds_every_norm_and_leaves_small_gradients_alone():
    # Arrange: C at the median norm, so about half the examples are clipped.
    grads = per_sample_gradients(_model(SmallCNN), *_batch(16))
    norms = clip_and_sum(grads, max_grad_norm=1.0).norms
    clip = float(norms.median())
    # Act: each example alone, as a batch of one, so its clipped gradient is the "sum".
    singles = [clip_and_sum({k: g[i : i + 1] for k, g in grads.items()}, max_grad_norm=clip)
               for i in range(16)]
    total = clip_and_sum(grads, max_grad_norm=clip)
    # Assert
    for i, single in enumerate(singles):
        norm = math.sqrt(sum(float(g.pow(2).sum()) for g in single.grads.values()))
        assert norm <= clip * (1 + 1e-5)
        if norms[i] + 1e-6 <= clip:
            assert all(torch.equal(single.grads[k], grads[k][i]) for k in grads)
        else:
            assert norm == pytest.approx(clip, rel=1e-5)
    for k in grads:
        torch.testing.assert_close(total.grads[k], sum(s.grads[k] for s in singles))


# --- noise -------------------------------------------------------------------------------------


def test_noise_on_a_zero_gradient_has_std_sigma_c_over_expected_batch_size():
    # Arrange: 200,000 coordinates; the sample std's relative standard error is 1/sqrt(2n) = 0.16 %.
    sigma, clip, expected = 1.3, 0.7, 50.0
    zero = {"w": torch.zeros(400, 250), "b": torch.zeros(100_000)}
    # Act
    out = add_noise(zero, noise_multiplier=sigma, max_grad_norm=clip, expected_batch_size=expected,
                    noise=NoiseSource(seed=0))
    flat = torch.cat([g.reshape(-1) for g in out.values()]).double()
    # Assert: std within 1 % (6 standard errors), mean within 5 standard errors of 0.
    target = sigma * clip / expected
    assert float(flat.std()) == pytest.approx(target, rel=0.01)
    assert abs(float(flat.mean())) < 5 * target / math.sqrt(flat.numel())


def test_an_empty_batch_gets_noise_only():
    # Arrange
    model = _model(LogisticRegression)
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    # Act
    info = dp_sgd_step(model, torch.optim.SGD(model.parameters(), lr=1.0), *_batch(0),
                       noise_multiplier=2.0, max_grad_norm=1.0, expected_batch_size=10,
                       noise=NoiseSource(seed=0))
    # Assert: the step moved the parameters by pure noise, std σC/(qN) = 0.2 (7,850 draws: 5 %).
    assert info.batch_size == 0 and info.norms.numel() == 0
    moved = torch.cat([(before[k] - p.detach()).reshape(-1) for k, p in model.named_parameters()])
    assert float(moved.std()) == pytest.approx(0.2, rel=0.05)


def test_same_noise_seed_same_noise():
    def draw(seed):
        return add_noise({"w": torch.zeros(5)}, noise_multiplier=1.0, max_grad_norm=1.0,
                         expected_batch_size=1, noise=NoiseSource(seed=seed))["w"]

    assert torch.equal(draw(3), draw(3))
    assert not torch.equal(draw(3), draw(4))


# --- Poisson sampling --------------------------------------------------------------------------


def test_poisson_batches_have_mean_size_qn_and_repeat_with_the_seed():
    # Arrange: N = 10,000, q = 0.01, 2,000 batches: the mean's standard error is 0.22.
    n, q = 10_000, 0.01
    def draw(seed):
        return poisson_sample(n, sample_rate=q, generator=torch.Generator().manual_seed(seed))

    gen = torch.Generator().manual_seed(0)
    # Act
    sizes = torch.tensor([len(poisson_sample(n, sample_rate=q, generator=gen)) for _ in range(2000)])
    # Assert: within 1.0 of qN = 100 (4.5 standard errors); sizes vary; same seed, same batch.
    assert float(sizes.float().mean()) == pytest.approx(q * n, abs=1.0)
    assert sizes.min() < 90 < 110 < sizes.max()
    assert torch.equal(draw(7), draw(7))
    assert not torch.equal(draw(7), draw(8))


def test_poisson_batches_are_opacus_batches_for_the_same_generator_seed():
    ours = torch.Generator().manual_seed(5)
    sampler = UniformWithReplacementSampler(num_samples=1000, sample_rate=0.02,
                                            generator=torch.Generator().manual_seed(5))
    for theirs in sampler:
        assert poisson_sample(1000, sample_rate=0.02, generator=ours).tolist() == list(theirs)


def test_steps_per_epoch_rounds_one_over_q():
    assert steps_per_epoch(256 / 60_000) == 234
    assert steps_per_epoch(1 / 3) == 3
    assert steps_per_epoch(0.6) == 2
    assert steps_per_epoch(1.0) == 1


# --- training and accounting -------------------------------------------------------------------


class _CountingAccountant:
    """Records every call, to check the training loop's contract with accountants."""

    def __init__(self):
        self.steps: list[tuple[float, float]] = []
        self.deltas: list[float] = []

    def step(self, *, noise_multiplier, sample_rate):
        self.steps.append((noise_multiplier, sample_rate))

    def get_epsilon(self, *, delta):
        self.deltas.append(delta)
        return float(len(self.steps))


def _train(accountant=None, *, seed=0, noise_multiplier=1.0, epochs=2, **kw):
    x, y = _batch(200)
    model = _model(LogisticRegression)
    kw.setdefault("noise", NoiseSource(seed=seed) if noise_multiplier > 0 else None)
    history = train_dp_sgd(
        model, (x, y), epochs=epochs, lr=0.5, sample_rate=0.05, noise_multiplier=noise_multiplier,
        max_grad_norm=1.0, delta=1e-5, seed=seed, accountant=accountant, progress=False, **kw,
    )
    return model, history


def test_the_accountant_is_stepped_once_per_step_and_asked_each_epoch():
    acc = _CountingAccountant()
    _, history = _train(acc)
    assert acc.steps == [(1.0, 0.05)] * 40  # 2 epochs x round(1/0.05) steps
    assert acc.deltas == [1e-5, 1e-5]
    assert history.epsilon == [20.0, 40.0] and history.steps == [20, 40]


def test_epsilon_equals_opacus_rdp_on_the_same_history():
    # Arrange
    reference = OpacusRDP()
    for _ in range(40):
        reference.step(noise_multiplier=1.0, sample_rate=0.05)
    # Act: our default accountant (ppml_helpers.dp.rdp) and Opacus's, each stepped by training.
    _, ours = _train()
    opacus_acc = OpacusRDP()
    _, theirs = _train(opacus_acc)
    # Assert
    assert opacus_acc.history == [(1.0, 0.05, 40)]
    assert ours.epsilon[-1] == pytest.approx(reference.get_epsilon(delta=1e-5), rel=1e-9)
    assert theirs.epsilon[-1] == pytest.approx(reference.get_epsilon(delta=1e-5), rel=1e-12)


def test_no_noise_means_infinite_epsilon_and_an_untouched_accountant():
    acc = _CountingAccountant()
    _, history = _train(acc, noise_multiplier=0.0)
    assert acc.steps == [] and history.epsilon == [math.inf, math.inf]


def test_training_repeats_with_the_same_seed():
    m1, h1 = _train(RDPAccountant(), seed=4)
    m2, h2 = _train(RDPAccountant(), seed=4)
    m3, _ = _train(RDPAccountant(), seed=5)
    assert h1 == h2
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters(), strict=True))
    assert not torch.equal(next(m1.parameters()), next(m3.parameters()))


def test_dp_sgd_learns_mnist_logistic_regression(mnist_small):
    # Arrange: 2,000 examples, q = 0.05 (expected batch 100), 3 epochs = 60 steps, σ = 1.
    train, test = mnist_small
    model = _model(LogisticRegression)
    # Act
    history = train_dp_sgd(
        model, train, epochs=3, lr=2.0, sample_rate=0.05, noise_multiplier=1.0, max_grad_norm=1.0,
        delta=1e-5, seed=0, noise=NoiseSource(seed=0), test_data=test, progress=False,
    )
    # Assert: well above chance (0.1); a record of what happened per epoch.
    assert isinstance(history, DPHistory)
    assert history.test_accuracy[-1] > 0.75
    assert history.epsilon == sorted(history.epsilon) and 0 < history.epsilon[-1] < math.inf
    assert 0 <= min(history.clipped) and max(history.clipped) <= 1
    assert list(history.as_frame().columns) == [
        "train_loss", "test_loss", "test_accuracy", "epsilon", "steps", "grad_norm", "clipped",
    ]


# --- bad inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sample_rate", 0.0), ("sample_rate", 1.5), ("sample_rate", math.nan),
        ("noise_multiplier", -1.0), ("noise_multiplier", math.inf), ("noise_multiplier", math.nan),
        ("max_grad_norm", 0.0), ("max_grad_norm", -1.0), ("max_grad_norm", math.inf),
        ("lr", 0.0), ("lr", -0.1), ("lr", math.nan), ("lr", math.inf),
        ("epochs", 0), ("epochs", 1.5),
        ("delta", 0.0), ("delta", 1.0), ("delta", math.nan),
        ("seed", -1), ("seed", None),
        ("momentum", 1.0), ("momentum", -0.1),
    ],
)
def test_train_dp_sgd_refuses_bad_inputs_naming_them(name, value):
    kwargs = dict(epochs=1, lr=0.1, sample_rate=0.1, noise_multiplier=1.0, max_grad_norm=1.0,
                  delta=1e-5, seed=0, noise=NoiseSource(seed=0), progress=False)
    kwargs[name] = value
    with pytest.raises(ValueError, match=name):
        train_dp_sgd(_model(LogisticRegression), _batch(20), **kwargs)


def test_train_dp_sgd_makes_the_noise_source_an_explicit_choice():
    kwargs = dict(epochs=1, lr=0.1, sample_rate=0.1, max_grad_norm=1.0, delta=1e-5, seed=0, progress=False)
    with pytest.raises(TypeError, match="noise"):
        train_dp_sgd(_model(LogisticRegression), _batch(20), noise_multiplier=1.0, **kwargs)
    with pytest.raises(ValueError, match=r"noise is None but noise_multiplier=1 > 0.*secure=True"):
        train_dp_sgd(_model(LogisticRegression), _batch(20), noise_multiplier=1.0, noise=None, **kwargs)
    history = train_dp_sgd(_model(LogisticRegression), _batch(20), noise_multiplier=0.0, noise=None, **kwargs)
    assert history.epsilon == [math.inf]


def test_train_dp_sgd_refuses_mismatched_or_loader_data():
    x, y = _batch(20)
    kwargs = dict(epochs=1, lr=0.1, sample_rate=0.1, noise_multiplier=1.0, max_grad_norm=1.0,
                  delta=1e-5, seed=0, noise=NoiseSource(seed=0), progress=False)
    with pytest.raises(ValueError, match="train_data: x and y differ in length"):
        train_dp_sgd(_model(LogisticRegression), (x, y[:-1]), **kwargs)
    with pytest.raises(ValueError, match="train_data must be a pair of tensors"):
        train_dp_sgd(_model(LogisticRegression), [(x, y)], **kwargs)


def test_the_pieces_refuse_bad_inputs_naming_them():
    grads = {"w": torch.zeros(3, 2)}
    with pytest.raises(ValueError, match="max_grad_norm"):
        clip_and_sum(grads, max_grad_norm=0.0)
    with pytest.raises(ValueError, match="noise_multiplier"):
        add_noise(grads, noise_multiplier=-1.0, max_grad_norm=1.0, expected_batch_size=1,
                  noise=NoiseSource(seed=0))
    with pytest.raises(ValueError, match="expected_batch_size"):
        add_noise(grads, noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=0,
                  noise=NoiseSource(seed=0))
    with pytest.raises(ValueError, match="sample_rate"):
        poisson_sample(10, sample_rate=0.0, generator=torch.Generator())
    with pytest.raises(ValueError, match="x, y: x and y differ in length"):
        per_sample_gradients(_model(LogisticRegression), torch.zeros(3, 784), torch.zeros(2).long())
    model = _model(LogisticRegression)
    with pytest.raises(ValueError, match="noise is None"):
        dp_sgd_step(model, torch.optim.SGD(model.parameters(), lr=0.1), *_batch(2),
                    noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=2, noise=None)
