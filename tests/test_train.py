"""ppml_helpers.train: fit, evaluate, batches and History."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ppml_helpers.models import LogisticRegression
from ppml_helpers.train import Evaluation, History, batches, evaluate, fit


@pytest.fixture(scope="module")
def blobs():
    """Two Gaussian blobs in 2-D, centres (-3, -3) and (3, 3), unit variance: separable
    except with probability ~1e-9 per point (distance 3*sqrt(2) = 4.2 sigma to the boundary)."""
    gen = torch.Generator().manual_seed(0)
    n = 200
    y = torch.arange(n) % 2
    centres = torch.tensor([[-3.0, -3.0], [3.0, 3.0]])
    x = centres[y] + torch.randn(n, 2, generator=gen)
    return x, y


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return LogisticRegression(in_features=2, num_classes=2)


def _fit(model, data, **kw):
    kw = {"epochs": 5, "lr": 0.1, "batch_size": 16, "seed": 0, "progress": False} | kw
    return fit(model, data, **kw)


# --- fit ------------------------------------------------------------------------------


def test_fit_reaches_high_accuracy_on_separable_data(blobs):
    model = _model()
    _fit(model, blobs)
    assert evaluate(model, blobs).accuracy >= 0.99


def test_fit_decreases_training_loss(blobs):
    history = _fit(_model(), blobs)
    assert history.train_loss[-1] < history.train_loss[0]


def test_fit_history_has_one_entry_per_epoch(blobs):
    history = _fit(_model(), blobs, epochs=3)
    assert (history.epoch, len(history.train_loss)) == ([1, 2, 3], 3)


def test_fit_records_test_metrics_when_given(blobs):
    history = _fit(_model(), blobs, epochs=2, test_data=blobs)
    assert (len(history.test_loss), len(history.test_accuracy)) == (2, 2)


def test_fit_last_test_metrics_equal_evaluate(blobs):
    model = _model()
    history = _fit(model, blobs, epochs=2, test_data=blobs)
    ev = evaluate(model, blobs)
    assert history.test_loss[-1] == pytest.approx(ev.loss, rel=1e-6)
    assert history.test_accuracy[-1] == ev.accuracy


def test_fit_without_test_data_records_no_test_metrics(blobs):
    history = _fit(_model(), blobs, epochs=2)
    assert (history.test_loss, history.test_accuracy) == ([], [])


def test_fit_same_seed_is_reproducible(blobs):
    a, b = _model(), _model()
    ha, hb = _fit(a, blobs, seed=3), _fit(b, blobs, seed=3)
    assert ha.train_loss == hb.train_loss
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_fit_different_seed_shuffles_differently(blobs):
    a, b = _model(), _model()
    _fit(a, blobs, seed=3, epochs=1)
    _fit(b, blobs, seed=4, epochs=1)
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_fit_train_loss_is_example_weighted_mean(blobs):
    # One epoch, lr tiny: the model barely moves, so the epoch's train loss is
    # close to the initial mean loss; with batch_size 150 of 200 examples a mean of
    # batch means would weight the 50-example batch 3x too much.
    model = _model()
    before = evaluate(model, blobs).loss
    history = _fit(model, blobs, epochs=1, lr=1e-9, batch_size=150)
    assert history.train_loss[0] == pytest.approx(before, rel=1e-5)


def test_fit_accepts_a_dataloader(blobs):
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*blobs), batch_size=16)
    model = _model()
    _fit(model, loader)
    assert evaluate(model, blobs).accuracy >= 0.99


@pytest.mark.parametrize("epochs", [0, -1])
def test_fit_bad_epochs_raise(blobs, epochs):
    with pytest.raises(ValueError, match="epochs"):
        _fit(_model(), blobs, epochs=epochs)


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan")])
def test_fit_bad_lr_raise(blobs, lr):
    with pytest.raises(ValueError, match="lr"):
        _fit(_model(), blobs, lr=lr)


def test_fit_bad_batch_size_raises(blobs):
    with pytest.raises(ValueError, match="batch_size"):
        _fit(_model(), blobs, batch_size=0)


def test_fit_mismatched_lengths_raise(blobs):
    x, y = blobs
    with pytest.raises(ValueError, match="x and y"):
        _fit(_model(), (x, y[:-1]))


# --- evaluate -------------------------------------------------------------------------


@pytest.fixture
def fixed_model():
    model = LogisticRegression(in_features=2, num_classes=3)
    with torch.no_grad():
        model.net[1].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        model.net[1].bias.copy_(torch.tensor([0.0, 0.5, 0.0]))
    return model


def test_evaluate_matches_hand_computation(fixed_model):
    x = torch.tensor([[2.0, 0.0], [0.0, 0.0], [-1.0, -1.0]])
    y = torch.tensor([0, 0, 1])
    # logits: [2, 0.5, -2], [0, 0.5, 0], [-1, -0.5, 2]; predictions 0, 1, 2 -> 1 of 3 right.
    logits = [[2.0, 0.5, -2.0], [0.0, 0.5, 0.0], [-1.0, -0.5, 2.0]]
    losses = [
        math.log(sum(math.exp(v) for v in row)) - row[t]
        for row, t in zip(logits, [0, 0, 1], strict=True)
    ]
    ev = evaluate(fixed_model, (x, y), batch_size=2)
    assert ev.loss == pytest.approx(sum(losses) / 3, rel=1e-6)
    assert ev.accuracy == pytest.approx(1 / 3)


def test_evaluate_returns_named_evaluation(fixed_model):
    ev = evaluate(fixed_model, (torch.zeros(1, 2), torch.tensor([1])))
    assert isinstance(ev, Evaluation) and ev.accuracy == 1.0  # logits [0, 0.5, 0]


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1024])
def test_evaluate_does_not_depend_on_batch_size(fixed_model, blobs, batch_size):
    x, y = blobs
    data = (torch.cat([x, x[:1]]), torch.cat([y, y[:1]]))
    ref = evaluate(fixed_model, data, batch_size=len(data[1]))
    ev = evaluate(fixed_model, data, batch_size=batch_size)
    assert ev.loss == pytest.approx(ref.loss, rel=1e-5)
    assert ev.accuracy == ref.accuracy


def test_evaluate_leaves_model_in_eval_mode(fixed_model):
    fixed_model.train()
    evaluate(fixed_model, (torch.zeros(1, 2), torch.tensor([1])))
    assert not fixed_model.training


def test_evaluate_empty_data_raises(fixed_model):
    with pytest.raises(ValueError, match="empty"):
        evaluate(fixed_model, (torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64)))


# --- batches --------------------------------------------------------------------------


def test_batches_without_shuffle_keep_order():
    x, y = torch.arange(7).float(), torch.arange(7)
    got = [yb.tolist() for _, yb in batches((x, y), batch_size=3, shuffle=False)]
    assert got == [[0, 1, 2], [3, 4, 5], [6]]


def test_batches_shuffled_cover_every_example_once():
    x, y = torch.arange(50).float(), torch.arange(50)
    gen = torch.Generator().manual_seed(0)
    got = torch.cat([yb for _, yb in batches((x, y), batch_size=8, shuffle=True, generator=gen)])
    assert sorted(got.tolist()) == list(range(50)) and got.tolist() != list(range(50))


# --- History --------------------------------------------------------------------------


def test_history_as_frame_with_test_metrics():
    h = History(epoch=[1, 2], train_loss=[0.9, 0.5], test_loss=[1.0, 0.6], test_accuracy=[0.7, 0.8])
    df = h.as_frame()
    assert df.index.name == "epoch" and df.index.tolist() == [1, 2]
    assert df.to_dict("list") == {
        "train_loss": [0.9, 0.5], "test_loss": [1.0, 0.6], "test_accuracy": [0.7, 0.8],
    }  # fmt: skip


def test_history_as_frame_without_test_metrics():
    df = History(epoch=[1], train_loss=[0.3]).as_frame()
    assert list(df.columns) == ["train_loss"]
