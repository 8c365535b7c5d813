"""Self-checks for ``00_threat_models``."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..inversion import dlg_init_, model_gradients
from ..models import MLP, SigmoidLeNet
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = [
    "SERVER_VIEW_ITEMS",
    "THREAT_ACTORS",
    "THREAT_BEHAVIOURS",
    "THREAT_SCENARIOS",
    "check_clip_and_noise",
    "check_recover_label",
    "check_server_view",
    "check_threat_models",
]


# --- Exercise 0.1: classify threat models ---------------------------------------------

THREAT_ACTORS = ("aggregator", "participant", "outsider")
THREAT_BEHAVIOURS = ("honest-but-curious", "malicious")

#: Five situations in the hospital consortium; learners name actor and behaviour.
THREAT_SCENARIOS = {
    "A": "The aggregator runs FedAvg exactly as specified, but keeps a copy of every "
    "hospital's update to study later.",
    "B": "One hospital sends updates with flipped signs, scaled up 10x, to sabotage the "
    "shared model.",
    "C": "The aggregator sends one hospital a specially crafted 'global model' so that the "
    "hospital's next update reveals its patients' scans.",
    "D": "A journalist outside the consortium, with the same access to the publicly "
    "released model as anyone, queries it to test whether a celebrity was a patient.",
    "E": "A hospital follows the protocol, but compares successive global models to infer "
    "what the other hospitals' patients look like.",
}

_THREAT_ANSWERS = {
    "A": ("aggregator", "honest-but-curious"),
    "B": ("participant", "malicious"),
    "C": ("aggregator", "malicious"),
    "D": ("outsider", "honest-but-curious"),
    "E": ("participant", "honest-but-curious"),
}

#: Scenarios where a second behaviour is a defensible reading: (that behaviour, why both hold).
_ALSO_DEFENSIBLE = {
    "D": ("malicious", "querying the public model is within its terms of use (honest-but-curious), "
          "but an attack aimed at one person can also be called malicious; both readings put the "
          "defence in the same place, the released model (DP, notebooks 04-05)."),
}

_BEHAVIOUR_HINT = (
    "Ask one question: does this actor deviate from the protocol (send something other "
    "than what it is supposed to), or only look closely at what it legitimately receives?"
)
_ACTOR_HINT = (
    "The aggregator runs the protocol, participants hold data and train, outsiders only "
    "see what is published."
)


@check
def check_threat_models(classify) -> CheckResult:
    """Check ``classify()`` -> ``{scenario: (actor, behaviour)}`` for the five scenarios."""
    ex = "0.1"
    answer = call_learner(ex, classify)
    if not isinstance(answer, dict) or set(answer) != set(THREAT_SCENARIOS):
        return failed(ex, f"expected a dict with keys {sorted(THREAT_SCENARIOS)}, got {answer!r}.",
                      "Return one (actor, behaviour) pair per scenario letter.")
    for key, pair in answer.items():
        if (
            not isinstance(pair, (tuple, list))
            or len(pair) != 2
            or pair[0] not in THREAT_ACTORS
            or pair[1] not in THREAT_BEHAVIOURS
        ):
            return failed(ex, f"scenario {key}: {pair!r} is not an (actor, behaviour) pair.",
                          f"Actors: {THREAT_ACTORS}; behaviours: {THREAT_BEHAVIOURS}.")
    wrong_actor = sorted(k for k, v in answer.items() if v[0] != _THREAT_ANSWERS[k][0])
    wrong_beh = sorted(k for k, v in answer.items()
                       if v[1] not in (_THREAT_ANSWERS[k][1], _ALSO_DEFENSIBLE.get(k, ("",))[0]))
    if not wrong_actor and not wrong_beh:
        note = "".join(f" Scenario {k}: {why}" for k, (_, why) in _ALSO_DEFENSIBLE.items())
        return passed(ex, "all five scenarios classified correctly." + note)
    parts, hints = [], []
    if wrong_actor:
        parts.append(f"the actor is off in scenario(s) {', '.join(wrong_actor)}")
        hints.append(_ACTOR_HINT)
    if wrong_beh:
        parts.append(f"the behaviour is off in scenario(s) {', '.join(wrong_beh)}")
        hints.append(_BEHAVIOUR_HINT)
    return failed(ex, "; ".join(parts) + ".", " ".join(hints))


# --- Exercise 0.2: what an honest-but-curious server sees -----------------------------

#: Candidate items; learners pick what the FedAvg server receives or computes.
SERVER_VIEW_ITEMS = (
    "raw patient records",
    "each hospital's model update",
    "each hospital's number of training examples",
    "which hospitals took part in each round, and when",
    "the global model after every round",
    "each patient's individual gradient",
    "the hospitals' local test sets",
    "the patients' diagnoses (labels)",
)
_SERVER_SEES = frozenset(SERVER_VIEW_ITEMS[1:5])


@check
def check_server_view(server_view) -> CheckResult:
    """Check ``server_view()`` -> the set of ``SERVER_VIEW_ITEMS`` a plain FedAvg server sees."""
    ex = "0.2"
    answer = call_learner(ex, server_view)
    if not isinstance(answer, (set, frozenset, list, tuple)):
        return failed(ex, f"expected a set of items, got {type(answer).__name__}.",
                      "Return a set of strings copied from SERVER_VIEW_ITEMS.")
    answer = set(answer)
    unknown = answer - set(SERVER_VIEW_ITEMS)
    if unknown:
        return failed(ex, f"{sorted(unknown)} are not in SERVER_VIEW_ITEMS.",
                      "Copy the strings exactly from SERVER_VIEW_ITEMS.")
    extra, missing = answer - _SERVER_SEES, _SERVER_SEES - answer
    if not extra and not missing:
        return passed(ex, "that is exactly what a plain FedAvg server sees.")
    msg = []
    if extra:
        msg.append(f"{len(extra)} of your items never reach the server directly")
    if missing:
        msg.append(f"you left out {len(missing)} thing(s) the server does receive or compute")
    return failed(ex, "; ".join(msg) + ".",
                  "Walk through one round: what does each hospital send, and what does the "
                  "server need to compute a weighted average and send it back?")


# --- Exercise 0.3: recover the label from a gradient ----------------------------------


def _label_cases(n: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    for i in range(n):
        model: nn.Module = SigmoidLeNet() if i % 2 == 0 else MLP(hidden=32)
        dlg_init_(model, seed=seed + i)
        x = torch.rand((1, 1, 28, 28), generator=gen)
        y = torch.randint(0, 10, (1,), generator=gen)
        grads = model_gradients(model, x, y)
        yield grads[-2], int(y)


@check
def check_recover_label(recover, *, n: int = 20, seed: int = 0) -> CheckResult:
    """Check ``recover(last_weight_grad) -> int`` on ``n`` single-example gradients.

    Half come from a sigmoid LeNet, half from a ReLU MLP (both have non-negative
    inputs to the last layer).
    """
    ex = "0.3"
    right = 0
    for grad, label in _label_cases(n, seed):
        got = call_learner(ex, recover, grad.clone())
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, bool) or not isinstance(got, int):
            shape = f" of shape {tuple(got.shape)}" if isinstance(got, torch.Tensor) else ""
            return failed(ex, f"expected one int label, got {type(got).__name__}{shape}.",
                          "Reduce to a single class index and return it as a Python int.")
        right += got == label
    if right == n:
        return passed(ex, f"{right}/{n} labels recovered from single-example gradients.")
    return failed(ex, f"{right}/{n} labels recovered.",
                  "Write out dL/dW for softmax cross-entropy: (p - onehot(y)) times the layer "
                  "input. Which row can have a negative sign when the input is non-negative?")


# --- Exercise 0.4: clip and noise an update -------------------------------------------


def _norm(grads) -> float:
    return math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))


@check
def check_clip_and_noise(clip_and_noise) -> CheckResult:
    """Check ``clip_and_noise(grads, max_norm, noise_multiplier, generator)``.

    Four properties: a large update is scaled to norm ``max_norm`` without
    turning; a small one is left as it is; the inputs are not modified; and
    the noise has standard deviation ``noise_multiplier * max_norm``
    (measured on 200,000 coordinates, tolerance 2 %).
    """
    ex = "0.4"
    gen = torch.Generator().manual_seed(0)
    big = [torch.randn(30, 20, generator=gen) * 5, torch.randn(20, generator=gen) * 5]
    copies = [g.clone() for g in big]
    out = call_learner(ex, clip_and_noise, big, 1.5, 0.0, torch.Generator().manual_seed(1))
    if not isinstance(out, (list, tuple)) or len(out) != len(big) or any(
        not isinstance(o, torch.Tensor) or o.shape != g.shape for o, g in zip(out, big, strict=False)
    ):
        return failed(ex, "expected a list of tensors with the same shapes as grads.",
                      "Return one tensor per input tensor.")
    if any(not torch.equal(a, b) for a, b in zip(big, copies, strict=True)):
        return failed(ex, "your function changed the gradient it was given.",
                      "Build new tensors instead of modifying grads in place (avoid mul_, add_).")
    if abs(_norm(out) - 1.5) > 1e-4:
        return failed(ex, f"with no noise, an update of norm {_norm(big):.1f} came back with "
                      f"norm {_norm(out):.4f}, not 1.5.",
                      "Measure the norm over all tensors together, as one long vector.")
    cos = sum(float((a * b).sum()) for a, b in zip(out, big, strict=True)) / (_norm(out) * _norm(big))
    if cos < 1 - 1e-6:
        return failed(ex, "clipping changed the update's direction.",
                      "Scale every tensor by the same factor.")
    small = [g / (_norm(big) * 2) for g in big]  # norm 0.5 < 1.5
    out_small = call_learner(ex, clip_and_noise, small, 1.5, 0.0, torch.Generator().manual_seed(1))
    if any(not torch.allclose(a, b, atol=1e-6) for a, b in zip(out_small, small, strict=True)):
        return failed(ex, "an update already inside the ball was changed.",
                      "Clipping only ever shrinks an update; one already small enough stays as it is.")
    zeros = [torch.zeros(200_000)]
    noisy = call_learner(ex, clip_and_noise, zeros, 2.0, 0.5, torch.Generator().manual_seed(2))
    std = float(noisy[0].std())
    if abs(std - 1.0) > 0.02:
        return failed(ex, f"noise std is {std:.3f} for max_norm=2 and noise_multiplier=0.5; "
                      "expected 1.0 within 2 %.",
                      "The noise's standard deviation is noise_multiplier times max_norm.")
    return passed(ex, "clipping keeps direction and bounds the norm; noise has the right scale.")
