"""Self-checks for ``09_interview_prep``: which defence stops which attack, the numbers to
have at your fingertips (checked against the package's live computation), and premises to
accept or correct."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import dp
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = ["ATTACKS", "PREMISES", "QUICK_NUMBERS", "check_defence_for", "check_premise_is_sound",
           "check_quick_numbers"]

# ---------------------------------------------------------------- 9.1

#: attack -> (what happens, the three options, the one that stops it, a hint that points at the idea)
ATTACKS = {
    "inversion": ("An honest-but-curious server rebuilds a hospital's images from its individual update.",
                  ("TLS between hospital and server", "secure aggregation",
                   "robust aggregation (coordinate-wise median)"),
                  "secure aggregation",
                  "Which option stops the server itself from seeing one hospital's update? (notebook 06)"),
    "membership": ("Anyone who can query the released model tests whether a patient was in its training data.",
                   ("secure aggregation", "DP-SGD with an accounted ε", "homomorphic encryption of the updates"),
                   "DP-SGD with an accounted ε",
                   "The attack needs only the released model: which option changes what the model can "
                   "reveal? (notebook 05)"),
    "poisoning": ("Two enrolled clients send boosted sign-flipped updates to wreck the model.",
                  ("robust aggregation (median or Krum)", "secure aggregation", "DP-SGD with an accounted ε"),
                  "robust aggregation (median or Krum)",
                  "Which option looks at the individual updates and discounts outliers? (notebook 02)"),
    "eavesdropper": ("Someone on the hospital's network records the traffic to the coordinator.",
                     ("TLS between hospital and server", "robust aggregation (median or Krum)",
                      "central DP added by the server"),
                     "TLS between hospital and server",
                     "The adversary is outside the protocol, on the wire. (notebook 00, section 4)"),
    "differencing": ("Two approved exact statistics, over all patients and over all but one, are subtracted.",
                     ("code review before approval", "DP noise on every release, within a budget",
                      "running the code on the mock first"),
                     "DP noise on every release, within a budget",
                     "Each query was harmless on its own and was approved; what bounds what two releases "
                     "reveal together? (appendix A2)"),
    "key-holder": ("The holder of the HE secret key colludes with the server and decrypts each client's update.",
                   ("a larger polynomial modulus degree", "threshold decryption: the key split among several parties",
                    "TLS between hospital and server"),
                   "threshold decryption: the key split among several parties",
                   "Encryption is as strong as the key's custody. (notebook 07, the trusted decryptor)"),
    "dropout-lie": ("A malicious server claims a client dropped out, to collect the secrets that unmask it.",
                    ("more clients per round", "robust aggregation (median or Krum)",
                     "a Shamir threshold chosen with the colluders counted"),
                    "a Shamir threshold chosen with the colluders counted",
                    "How many shares must the server gather to unmask, and who else can hand it some? "
                    "(notebook 06, the threshold with colluders)"),
}


@check
def check_defence_for(defence_for) -> CheckResult:
    """Check ``defence_for(attack, options)`` -> the one option that stops the attack, on the
    seven attacks of ``ATTACKS``."""
    ex = "9.1"
    wrong = []
    for attack, (_, options, answer, hint) in ATTACKS.items():
        got = call_learner(ex, defence_for, attack, list(options))
        if got not in options:
            return failed(ex, f"for {attack!r} you returned {got!r}, which is not one of its options.",
                          "Return one of the option strings exactly as given.")
        if got != answer:
            wrong.append((attack, hint))
    if wrong:
        return failed(ex, f"{len(ATTACKS) - len(wrong)} of {len(ATTACKS)} right; not yet: "
                          f"{', '.join(a for a, _ in wrong)}.", wrong[0][1])
    return passed(ex, "all seven attacks matched to the defence that stops them: say the threat model first, "
                      "then the defence, in an interview too.")


# ---------------------------------------------------------------- 9.2

#: key -> what to compute (the learner's function returns a dict with these keys)
QUICK_NUMBERS = {
    "laplace_scale": "the Laplace scale b for a counting query at ε = 0.5",
    "rr_truth_probability": "randomised response's probability of reporting the truth at ε = ln 3",
    "basic_composition_epsilon": "the total ε of 10 releases at ε = 0.1 each, by basic composition",
    "dp_sgd_epsilon": "ε after 1,000 DP-SGD steps at σ = 1.0, q = 0.01, δ = 1e-5 (RDP accountant)",
    "ckks_ciphertexts": "CKKS ciphertexts for 199,210 values at N = 8192 (N/2 slots each)",
    "pairwise_masks": "pairwise masks in one round of Bonawitz secure aggregation with 100 clients",
}


def _quick_reference() -> dict:
    orders = dp.DEFAULT_ORDERS
    rdp = dp.rdp_subsampled_gaussian(noise_multiplier=1.0, sample_rate=0.01, steps=1000, orders=orders)
    return {
        "laplace_scale": dp.laplace_scale(sensitivity=1.0, epsilon=0.5),
        "rr_truth_probability": dp.rr_truth_probability(epsilon=math.log(3)),
        "basic_composition_epsilon": dp.basic_composition(epsilon=0.1, k=10)[0],
        "dp_sgd_epsilon": dp.rdp_to_epsilon(orders=orders, rdp=rdp, delta=1e-5)[0],
        "ckks_ciphertexts": math.ceil(199_210 / (8192 // 2)),
        "pairwise_masks": 100 * 99 // 2,
    }


_QUICK_HINTS = {
    "laplace_scale": "b = Δ₁/ε, and a count's Δ₁ is 1.",
    "rr_truth_probability": "e^ε / (1 + e^ε); ph.dp.rr_truth_probability computes it.",
    "basic_composition_epsilon": "Basic composition adds the ε's.",
    "dp_sgd_epsilon": "ph.dp.rdp_subsampled_gaussian for the curve, then ph.dp.rdp_to_epsilon at δ = 1e-5.",
    "ckks_ciphertexts": "A CKKS ciphertext at N = 8192 holds 4,096 values; round up.",
    "pairwise_masks": "One mask per pair of clients: n choose 2.",
}


@check
def check_quick_numbers(quick_numbers) -> CheckResult:
    """Check ``quick_numbers()`` -> ``{key: value}`` for the six keys of ``QUICK_NUMBERS``, against
    the package's live computation (relative tolerance 1 %; counts exact)."""
    ex = "9.2"
    got = call_learner(ex, quick_numbers)
    if not isinstance(got, dict) or set(got) != set(QUICK_NUMBERS):
        keys = sorted(got) if isinstance(got, dict) else type(got).__name__
        return failed(ex, f"expected a dict with the keys {sorted(QUICK_NUMBERS)}, got {keys}.",
                      "One entry per line of the table above, under the same keys.")
    want = _quick_reference()
    for key, value in want.items():
        g = got[key]
        if not isinstance(g, numbers.Real) or isinstance(g, bool) or not np.isfinite(g):
            return failed(ex, f"{key}: expected a number, got {g!r}.", _QUICK_HINTS[key])
        exact = isinstance(value, int)
        if (g != value) if exact else not math.isclose(g, value, rel_tol=0.01):
            return failed(ex, f"{key} ({QUICK_NUMBERS[key]}) is off: you have {g:.6g}.", _QUICK_HINTS[key])
    return passed(ex, "six numbers an interviewer may ask you to estimate, each matching the package's live value.")


# ---------------------------------------------------------------- 9.3

#: key -> (the statement, sound?, where the course shows it)
PREMISES = {
    "secagg-makes-dp": ("Secure aggregation alone makes the released model differentially private.", False,
                        "notebook 06: what the sum still reveals"),
    "epsilon-covers-all-epochs": ("With Poisson sampling, the RDP accountant's ε for DP-SGD covers the whole "
                                  "training run, every epoch, not only the last.", True,
                                  "notebook 03, section 8, and notebook 04"),
    "audit-proves-correct": ("An audit that finds ε_LB = 0.4 for a claimed ε = 1 proves the implementation "
                             "is correct.", False, "notebook 05: what an audit can and cannot prove"),
    "ckks-approximate": ("CKKS results carry an approximation error, so an encrypted score can differ "
                         "slightly from the plaintext one.", True, "notebook 07"),
    "average-auc-safe": ("A membership-inference AUC near 0.5 means no training example is at risk.", False,
                         "notebook 05: TPR at a low false-positive rate"),
    "clipping-is-privacy": ("Clipping every update to norm 1 is a privacy mechanism by itself.", False,
                            "notebook 00, section 7"),
    "shamir-t-reconstruct": ("With t-of-n Shamir sharing, any t colluding parties can rebuild the secret.", True,
                             "notebook 06: secret sharing"),
}


@check
def check_premise_is_sound(premise_is_sound) -> CheckResult:
    """Check ``premise_is_sound(key)`` -> ``True`` or ``False`` for the seven statements of
    ``PREMISES``."""
    ex = "9.3"
    wrong = []
    for key, (_, sound, where) in PREMISES.items():
        got = call_learner(ex, premise_is_sound, key)
        if not isinstance(got, bool | np.bool_):
            return failed(ex, f"for {key!r} expected True or False, got {got!r}.",
                          "Return a truth value: is the statement sound as written?")
        if bool(got) != sound:
            wrong.append((key, where))
    if wrong:
        return failed(ex, f"{len(PREMISES) - len(wrong)} of {len(PREMISES)} right; look again at "
                          f"{', '.join(k for k, _ in wrong)}.",
                      f"For {wrong[0][0]!r}, see {wrong[0][1]}.")
    return passed(ex, "all seven judged right. In an interview, correct a flawed premise first, then answer.")
