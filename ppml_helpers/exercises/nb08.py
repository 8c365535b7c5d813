"""Self-checks for ``08_capstone_hospitals``.

References: :func:`ppml_helpers.capstone.accounting.gaussian_epsilon` (8.1),
:func:`ppml_helpers.capstone.plan_shares` (8.2),
:func:`ppml_helpers.capstone.secure.plan_threshold` (8.3) and the trust rules of
:data:`CONFIGURATION_SCENARIOS` (8.4).
"""

from __future__ import annotations

import math
import numbers

from ..capstone import plan_shares
from ..capstone.accounting import gaussian_epsilon
from ..capstone.secure import plan_threshold
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = [
    "CONFIGURATION_SCENARIOS",
    "check_choose_configuration",
    "check_noise_share",
    "check_patient_epsilon",
    "check_plan_threshold",
    "reference_configuration",
]


def _number(x) -> float | None:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    return float(x)


# ---------------------------------------------------------------- 8.2

_SHARE_CASES = [(300.0, 5, 1, 1), (100.0, 5, 0, 0), (90.0, 10, 3, 1), (12.0, 4, 0, 2), (7.0, 3, 1, 1)]


@check
def check_noise_share(noise_share) -> CheckResult:
    """Check ``noise_share(total_variance, hospitals, colluders, dropouts)``: the variance each
    hospital adds so that the noise the coordinator cannot remove is still ``total_variance``
    when ``colluders`` hospitals subtract their own and ``dropouts`` never send theirs."""
    ex = "8.2"
    for total, n, c, d in _SHARE_CASES:
        want = plan_shares(total, hospitals=n, colluders=c, dropouts=d).share_variance
        raw = call_learner(ex, noise_share, total, n, c, d)
        got = _number(raw)
        where = f"total={total}, hospitals={n}, colluders={c}, dropouts={d}"
        if got is None:
            return failed(ex, f"for {where} you returned {raw!r}, not a number.", "Return one variance.")
        if math.isclose(got, want, rel_tol=1e-9):
            continue
        if math.isclose(got, total / n):
            return failed(ex, f"for {where} your shares add up to the total only if every share is counted.",
                          "A colluding hospital knows its own noise and subtracts it; a hospital that drops "
                          "out never sends its share. Which shares are left in the worst case?")
        if math.isclose(got, total / max(n - c, 1)) or math.isclose(got, total / max(n - d, 1)):
            return failed(ex, f"for {where} you cover one of the two threats, not both.",
                          "Colluders and dropouts both take shares away, and the worst case has both.")
        if math.isclose(got, math.sqrt(total) / (n - c - d)) or math.isclose(got**2, total / (n - c - d)):
            return failed(ex, f"for {where} you divided a standard deviation, not a variance.",
                          "Independent noises add their variances, not their standard deviations.")
        return failed(ex, f"for {where}, {got} is not the share that keeps the guarantee.",
                      "Count the shares the coordinator can neither remove nor miss, and split the "
                      "total variance among them.")
    return passed(ex, "the noise share per hospital in five settings.")


# ---------------------------------------------------------------- 8.1

_EPS_CASES = [(10.0, 100, 1e-5, 5), (3.0, 20, 1e-6, 5), (30.0, 200, 1e-5, 3), (1.5, 1, 1e-5, 8)]


@check
def check_patient_epsilon(patient_epsilon) -> CheckResult:
    """Check ``patient_epsilon(sigma, rounds, delta, hospitals)``: ε at δ for one patient after
    ``rounds`` rounds in which every hospital releases its clipped gradient sum plus
    N(0, σ²C²) (no sampling); RDP composition and the Balle et al. conversion, within 1 %."""
    ex = "8.1"
    for sigma, rounds, delta, n in _EPS_CASES:
        want = gaussian_epsilon(noise_multiplier=sigma, sample_rate=1.0, rounds=rounds, delta=delta)
        raw = call_learner(ex, patient_epsilon, sigma, rounds, delta, n)
        got = _number(raw)
        where = f"sigma={sigma}, rounds={rounds}, delta={delta}, hospitals={n}"
        if got is None:
            return failed(ex, f"for {where} you returned {raw!r}, not a number.", "Return ε as one float.")
        if math.isclose(got, want, rel_tol=0.01):
            continue
        if n > 1 and math.isclose(got, n * want, rel_tol=0.02):
            return failed(ex, f"for {where} your ε grows with the number of hospitals.",
                          "Each patient is at one hospital: the hospitals' releases are about disjoint "
                          "patients and compose in parallel, not in sequence.")
        if got > want:
            return failed(ex, f"for {where} you get ε = {got:.4g}, above the accountant's.",
                          "Compose in RDP (add α·R/(2σ²) over the rounds) and convert once at the end, with "
                          "ph.dp.rdp_to_epsilon over many orders; composing (ε, δ) pairs round by round is "
                          "much looser.")
        return failed(ex, f"for {where} you get ε = {got:.4g}, below what the mechanism guarantees.",
                      "Check the RDP of one Gaussian release, α/(2σ²) with σ the noise multiplier, and that "
                      "you multiply it by the rounds.")
    return passed(ex, "ε per patient in four settings, by RDP with parallel composition.")


# ---------------------------------------------------------------- 8.3

_THRESHOLD_CASES = [(5, 1, 1), (5, 0, 0), (5, 0, 2), (7, 2, 2), (10, 3, 3), (7, 0, 1), (5, 2, 2), (4, 1, 2),
                    (3, 0, 1)]


def _plan_or_none(n: int, c: int, d: int) -> int | None:
    try:
        return plan_threshold(n, colluders=c, dropouts=d)
    except ValueError:
        return None


@check
def check_plan_threshold(plan_threshold_fn) -> CheckResult:
    """Check ``plan_threshold(hospitals, colluders, dropouts)``: the Shamir threshold t that a
    lying coordinator with ``colluders`` hospitals cannot defeat and that lets at most
    ``dropouts`` hospitals (and their noise shares) go missing from a sum, or None when the
    two cannot both hold."""
    ex = "8.3"
    for n, c, d in _THRESHOLD_CASES:
        want = _plan_or_none(n, c, d)
        got = call_learner(ex, plan_threshold_fn, n, c, d)
        where = f"hospitals={n}, colluders={c}, dropouts={d}"
        if got == want and (got is None or isinstance(got, numbers.Integral)):
            continue
        if want is None:
            return failed(ex, f"for {where} you returned {got!r}, but no threshold works there.",
                          "Check the colluder rule for the threshold the dropouts force; return None when it "
                          "fails.")
        if isinstance(got, numbers.Integral) and (n + c) // 2 + 1 <= got < want:
            return failed(ex, f"for {where}, t = {got} is safe against the colluders but too low for the noise plan.",
                          "With t below n − D the coordinator can leave out more hospitals than D, and their "
                          "noise shares with them: the sum would hold less noise than the shares were sized for.")
        if isinstance(got, numbers.Integral) and got > want:
            return failed(ex, f"for {where}, t = {got} cannot survive {d} dropout(s).",
                          "After D dropouts, n − D hospitals are left to hand over shares.")
        return failed(ex, f"for {where}, {got!r} is not the threshold of the plan.",
                      "Two conditions: t > (n + n_C)/2 (notebook 06), and exactly the dropouts the shares "
                      "allow for may go missing.")
    return passed(ex, "the threshold of the noise plan in nine settings, three with none.")


# ---------------------------------------------------------------- 8.4

#: Each scenario: (description, facts). Facts: is the coordinator trusted with patients' gradients,
#: is secure aggregation available, hospitals, colluders and dropouts to tolerate.
CONFIGURATION_SCENARIOS = [
    ("The five hospitals hand their data to a national registry they all trust by law.",
     {"curator_trusted": True, "secure_aggregation": False, "hospitals": 5, "colluders": 0, "dropouts": 0}),
    ("A cloud coordinator nobody trusts; the hospitals can run secure aggregation; one may collude, one may drop.",
     {"curator_trusted": False, "secure_aggregation": True, "hospitals": 5, "colluders": 1, "dropouts": 1}),
    ("An untrusted coordinator and no secure aggregation (a hospital's firewall forbids the extra rounds).",
     {"curator_trusted": False, "secure_aggregation": False, "hospitals": 5, "colluders": 1, "dropouts": 0}),
    ("An untrusted coordinator with secure aggregation, but three of four hospitals may collude and one drop.",
     {"curator_trusted": False, "secure_aggregation": True, "hospitals": 4, "colluders": 3, "dropouts": 1}),
    ("A trusted registry that also offers secure aggregation.",
     {"curator_trusted": True, "secure_aggregation": True, "hospitals": 5, "colluders": 0, "dropouts": 1}),
    ("Seven hospitals, untrusted coordinator, secure aggregation, two colluders, two dropouts.",
     {"curator_trusted": False, "secure_aggregation": True, "hospitals": 7, "colluders": 2, "dropouts": 2}),
]


def reference_configuration(facts: dict) -> str:
    """The least noisy configuration the stated trust model allows."""
    if facts["curator_trusted"]:
        return "central"
    n, c, d = facts["hospitals"], facts["colluders"], facts["dropouts"]
    if facts["secure_aggregation"] and _plan_or_none(n, c, d) is not None:
        return "distributed"
    return "local"


@check
def check_choose_configuration(choose_configuration) -> CheckResult:
    """Check ``choose_configuration(facts)``: ``"central"``, ``"distributed"`` or ``"local"``, the
    least noisy configuration whose trust assumptions the facts support, on six scenarios."""
    ex = "8.4"
    for text, facts in CONFIGURATION_SCENARIOS:
        want = reference_configuration(facts)
        got = call_learner(ex, choose_configuration, dict(facts))
        if got == want:
            continue
        if got == "central":
            return failed(ex, f"for {text!r} you chose central DP.",
                          "Central DP needs a curator trusted with every patient's gradient.")
        if got == "local" and want == "distributed":
            return failed(ex, f"for {text!r} you chose local DP.",
                          "Local DP is safe but adds √n times the noise: when secure aggregation with a "
                          "safe threshold is possible, the sum can carry the noise once.")
        if got == "distributed" and want == "local":
            return failed(ex, f"for {text!r} you chose distributed DP.",
                          "Distributed DP needs secure aggregation and a threshold that the declared "
                          "colluders and dropouts allow (exercise 8.3).")
        if got == "local" and want == "central":
            return failed(ex, f"for {text!r} you chose local DP.",
                          "With a trusted curator, one noise draw on the sum is enough.")
        return failed(ex, f"for {text!r} you returned {got!r}.",
                      'Return one of "central", "distributed", "local".')
    return passed(ex, "the configuration for six trust models.")
