"""The formal privacy analysis of a consortium run, generated from the run's own parameters and
results as a Markdown document for the hospitals' IRBs.

:func:`analyse` gathers the numbers (ε at δ by the accountant the mechanism needs, the same
release through dp_accounting's PLD where that library has the mechanism, the hospital-level
ε, group privacy for a patient at two hospitals, the price of the tuning runs, the audit, the
utility); :func:`privacy_report` writes the document, ending with its parameters as JSON so
that anyone can recompute the ε (the tests do, with dp_accounting).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..dp import rdp_to_epsilon
from . import accounting as acc
from .secure import plan_threshold
from .training import config_rdp

__all__ = ["PrivacyAnalysis", "analyse", "parameters_of", "privacy_report", "write_report"]

_TRUST = {
    "central": ("A trusted curator receives every hospital's patients' clipped gradients in the clear and "
                "adds the noise once. Every hospital must trust the curator with its patients' gradients; "
                "only the released model is protected."),
    "local": ("Each hospital adds the full noise to its own gradient sum before it leaves the premises. "
              "Nobody is trusted: the coordinator, any coalition of hospitals and the public all see only "
              "noised releases. The price is noise: the coordinator's sum holds √n times the noise of a "
              "trusted curator."),
    "distributed": ("Each hospital adds a share of integer noise to its rounded gradient sum; secure "
                    "aggregation (Bonawitz et al.) lets the coordinator learn only the sum, which holds the "
                    "full noise. The coordinator is not trusted with any hospital's update; the guarantee "
                    "holds against it together with up to n_C colluding hospitals (who know their own "
                    "noise) and with up to D hospitals dropping out (whose noise is missing)."),
}


@dataclass(frozen=True)
class PrivacyAnalysis:
    """Every number of the report, taken from a run (see :func:`analyse`)."""

    kind: str
    hospitals: int
    patients: int
    train_patients: int
    dimension: int
    epsilon_target: float
    delta: float
    rounds: int
    sample_rate: float
    clip: float
    lr: float
    epsilon: float
    accountant: str
    epsilon_pld: float | None
    rho_zcdp: float | None
    mu_gdp: float | None
    noise_multiplier: float | None
    skellam_variance: float | None
    share_variance: float | None
    scale: float | None
    l2_sensitivity: float | None
    l1_sensitivity: float | None
    colluders: int
    dropouts: int
    threshold: int | None
    hospital_epsilon: float
    group_epsilon: float
    group_delta: float
    tuning_runs: int
    epsilon_with_tuning: float
    audit: dict | None = None
    utility: dict = field(default_factory=dict)
    secure_costs: dict | None = None
    uncounted: str = ""
    declared_patients: int = 0


def _pld_epsilon(sigma: float, rounds: int, delta: float) -> float:
    import dp_accounting
    from dp_accounting.pld import PLDAccountant

    pld = PLDAccountant()
    pld.compose(dp_accounting.GaussianDpEvent(sigma), rounds)
    return float(pld.get_epsilon(delta))


def analyse(run, hospitals, *, tuning=(), audit=None, utility: dict | None = None,
            secure_costs: dict | None = None, uncounted: str = "") -> PrivacyAnalysis:
    """The numbers of ``run``'s privacy analysis.

    Args:
        run: a DP :class:`~ppml_helpers.capstone.training.ConsortiumRun`.
        hospitals: the hospitals it trained on (their sizes; the patients are the unit).
        tuning: the :class:`~ppml_helpers.capstone.training.TrustConfig` of every training run on
            the private data that the search behind ``run``'s hyperparameters made; their RDP
            is added to the final run's (the search spends privacy too).
        audit: ``(AuditResult, claimed, actual)`` from
            :func:`~ppml_helpers.capstone.attacks.audit_round`, or None.
        utility: e.g. ``{"test AUC": …, "non-private test AUC": …}``.
        secure_costs: e.g. ``{"bytes per hospital per round": …, "seconds per round": …}``.
        uncounted: runs on the same patients that are *not* in ``tuning`` (a study, repeats
            for error bars), said in the claim so that nobody reads the total as complete.
    """
    c = run.config
    if c.kind == "non_private":
        raise ValueError("a non-private run has no privacy guarantee to analyse: it releases the model "
                         "with ε = ∞ for its patients.")
    patients = sum(h.num_patients for h in hospitals)
    train = sum(len(h.y_train) for h in hospitals)
    largest = max(len(h.y_train) for h in hospitals)
    tuning = list(tuning)
    dim = len(run.weights)

    def total(group: int) -> float:
        rdp = sum((config_rdp(t, dim=dim, group=group) for t in tuning), config_rdp(c, dim=dim, group=group))
        return rdp_to_epsilon(orders=acc.INTEGER_ORDERS, rdp=rdp, delta=c.delta)[0]

    tuned = total(1)
    group_eps, group_delta = total(2), c.delta  # sensitivities doubled in RDP: tighter than (2ε, 2e^ε δ)
    common = {"kind": c.kind, "hospitals": run.hospitals, "patients": patients, "train_patients": train,
              "dimension": dim, "epsilon_target": c.epsilon, "delta": c.delta, "rounds": c.rounds,
              "sample_rate": 1.0, "clip": c.clip, "lr": c.lr, "colluders": c.colluders,
              "dropouts": c.dropouts, "tuning_runs": len(tuning) + 1, "utility": dict(utility or {}),
              "secure_costs": secure_costs, "uncounted": uncounted, "declared_patients": c.declared_patients}
    if c.kind in ("central", "local") or c.noise == "gaussian":
        sigma = run.noise_multiplier
        eps = acc.gaussian_epsilon(noise_multiplier=sigma, sample_rate=1.0, rounds=c.rounds, delta=c.delta)
        # Replacing one hospital's data moves its release by up to 2 x (its patients) x C, against std sigma*C.
        hospital_eps = acc.hospital_level_epsilon(noise_std=sigma * c.clip, sensitivity=2 * largest * c.clip,
                                                  rounds=c.rounds, delta=c.delta)
        details = {"accountant": "RDP of the Gaussian mechanism (the course's accountant; no sampling: "
                                 "every patient's clipped gradient enters every round)",
                   "epsilon_pld": _pld_epsilon(sigma, c.rounds, c.delta), "rho_zcdp": c.rounds / (2 * sigma**2),
                   "mu_gdp": math.sqrt(c.rounds) / sigma, "noise_multiplier": sigma, "skellam_variance": None,
                   "share_variance": run.shares.share_variance if run.shares else None, "scale": None,
                   "l2_sensitivity": None, "l1_sensitivity": None,
                   "threshold": plan_threshold(run.hospitals, colluders=c.colluders, dropouts=c.dropouts)
                   if c.kind == "distributed" else None}
    else:
        l2, l1 = run.sensitivities
        mu = run.skellam_variance
        kwargs = {"variance": mu, "l2_sensitivity": l2, "l1_sensitivity": l1, "sample_rate": 1.0, "delta": c.delta}
        eps = acc.skellam_epsilon(rounds=c.rounds, **kwargs)
        hospital_eps = acc.skellam_epsilon(rounds=c.rounds, **{**kwargs, "l2_sensitivity": 2 * largest * l2,
                                                               "l1_sensitivity": 2 * largest * l1})
        details = {"accountant": "RDP of the Skellam mechanism (Agarwal, Kairouz & Liu 2021, Theorem 3.5) on the "
                                 "integer sum; no sampling",
                   "epsilon_pld": None, "rho_zcdp": None, "mu_gdp": None, "noise_multiplier": math.sqrt(mu) / l2,
                   "skellam_variance": mu, "share_variance": run.shares.share_variance, "scale": c.scale,
                   "l2_sensitivity": l2, "l1_sensitivity": l1,
                   "threshold": plan_threshold(run.hospitals, colluders=c.colluders, dropouts=c.dropouts)}
    audit_dict = None
    if audit is not None:
        result, claimed, actual = audit
        audit_dict = {"epsilon_lb": result.epsilon_lb, "trials": result.trials, "claimed_one_round": claimed,
                      "actual_one_round": actual}
    return PrivacyAnalysis(**common, epsilon=eps, hospital_epsilon=hospital_eps, group_epsilon=group_eps,
                           group_delta=group_delta, epsilon_with_tuning=tuned, audit=audit_dict, **details)


def _f(x, digits: int = 4) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def privacy_report(a: PrivacyAnalysis) -> str:
    """The analysis as a Markdown document (claim, trust model, unit, mechanism, accounting,
    numbers, secure aggregation, audit, utility, residual risks, a statement for the IRB, and
    the parameters as JSON)."""
    names = {"central": "central DP (trusted curator)", "local": "local DP (each hospital noises its own release)",
             "distributed": "distributed DP (noise shares + secure aggregation)"}
    lines = [f"# Formal privacy analysis: {names[a.kind]}", ""]
    lines += ["## Claim", "",
              f"Every training patient has ({_f(a.epsilon_with_tuning)}, {a.delta:g})-differential privacy: adding "
              f"or removing one patient's record at any one of the {a.hospitals} hospitals changes the probability "
              f"of anything the consortium released by at most a factor e^{_f(a.epsilon_with_tuning)} (plus "
              f"{a.delta:g}). That total counts all {a.tuning_runs} training runs on these patients: the search "
              f"that chose the hyperparameters ({a.tuning_runs - 1} runs) and the final run, which alone spends "
              f"ε = {_f(a.epsilon)}. A search run on a pilot cohort, or on public or synthetic data, that the final "
              f"training does not use would leave ε = {_f(a.epsilon)} as the whole guarantee. "
              f"δ = {a.delta:g} is far below 1/n = 1/{a.declared_patients} for the declared cohort. "
              "Not covered: the validation patients, who enter only through which candidate the search picked, "
              "and the test patients, who enter only through the accuracy reported to the consortium; the "
              "per-hospital patient counts are not released (the step divides by a declared constant)."
              + (f" Not counted here: {a.uncounted}." if a.uncounted else ""), ""]
    lines += ["## Trust model", "", _TRUST[a.kind], ""]
    if a.kind == "distributed":
        lines += [f"Declared: up to n_C = {a.colluders} colluding hospital(s) and D = {a.dropouts} dropout(s). "
                  f"Each hospital's noise share is sized so that the n − n_C − D = "
                  f"{a.hospitals - a.colluders - a.dropouts} honest shares left in the worst case still carry the "
                  "full variance.", ""]
    lines += ["## Privacy unit and adjacency", "",
              "The unit is the patient (add/remove adjacency on the union of the hospitals' datasets). "
              "The hospitals hold disjoint patients, so the per-hospital releases compose in parallel: each "
              "patient is in one hospital's data, and ε is not multiplied by the number of hospitals. "
              f"A patient treated at two hospitals has two records, so every sensitivity doubles for that person: "
              f"({_f(a.group_epsilon)}, {a.delta:g})-DP in all (RDP with twice the sensitivity), unless the hospitals "
              "deduplicate or bound each patient's total contribution. "
              f"With the whole hospital as the unit (replacing one hospital's data), the final run gives "
              f"ε = {_f(a.hospital_epsilon)}: hospital-level DP with five silos is vacuous.", ""]
    lines += ["## Mechanism and parameters", "", "| parameter | value |", "| --- | --- |",
              f"| model | logistic regression, {a.dimension} parameters |",
              f"| training patients | {a.train_patients} of {a.patients} (the rest: validation and test) |",
              f"| rounds (one noised gradient step each) | {a.rounds} |",
              f"| sample rate | {a.sample_rate:g} (every patient in every round) |",
              f"| clipping norm C (per patient) | {a.clip:g} |",
              f"| step size | {a.lr:g} |"]
    if a.skellam_variance is not None:
        lines += [f"| fixed-point scale s | {a.scale:g} |",
                  f"| integer sensitivities Δ2, Δ1 | {_f(a.l2_sensitivity, 6)}, {_f(a.l1_sensitivity, 6)} |",
                  f"| total Skellam variance μ (integer units) | {_f(a.skellam_variance, 6)} |",
                  f"| noise std on the sum, in units of the gradients | {_f(math.sqrt(a.skellam_variance) / a.scale)} |",
                  f"| each hospital's share | {_f(a.share_variance, 6)} |",
                  f"| equivalent noise multiplier √μ / Δ2 | {_f(a.noise_multiplier)} |",
                  f"| secure-aggregation threshold t | {a.threshold} of {a.hospitals} |"]
    else:
        lines += [f"| noise multiplier σ | {_f(a.noise_multiplier)} |",
                  f"| noise std on the coordinator's sum{' (what the declared colluders cannot remove)' if a.kind == 'distributed' else ''} | {_f(a.noise_multiplier * a.clip * (math.sqrt(a.hospitals) if a.kind == 'local' else 1))} |"]
        if a.kind == "distributed":
            lines += [f"| each hospital's Gaussian share (variance, units of C²) | {_f(a.share_variance, 6)} |",
                      f"| secure-aggregation threshold t | {a.threshold} of {a.hospitals} |"]
    lines += [""]
    lines += ["## Accounting", "",
              f"Accountant: {a.accountant}. Composition over the {a.rounds} rounds adds RDP; conversion to "
              "(ε, δ) by Balle et al. 2020. Parallel composition over hospitals (disjoint patients). "
              f"The search's runs ({a.tuning_runs - 1}, each with its own ε and rounds) are counted by adding "
              "their RDP curves to the final run's, at integer orders.", ""]
    lines += ["## The numbers", "", "| quantity | value |", "| --- | --- |",
              f"| ε at δ = {a.delta:g}, all {a.tuning_runs} runs (the guarantee) | {_f(a.epsilon_with_tuning)} |",
              f"| ε of the final run (target {_f(a.epsilon_target)}) | {_f(a.epsilon)} |",
              f"| ε of the final run by dp_accounting's PLD | {_f(a.epsilon_pld)} |",
              f"| ρ-zCDP | {_f(a.rho_zcdp)} |",
              f"| μ-GDP | {_f(a.mu_gdp)} |",
              f"| patient at two hospitals (group of 2), all runs | ({_f(a.group_epsilon)}, {a.delta:g}) |",
              f"| hospital-level ε (final run) | {_f(a.hospital_epsilon)} |", ""]
    if a.skellam_variance is not None:
        lines += ["dp_accounting has no Skellam mechanism, so there is no PLD figure; ρ-zCDP and μ-GDP are "
                  "given for the Gaussian mechanisms only. The Skellam's RDP exceeds the Gaussian's at the "
                  "same variance by a term in 1/μ², negligible at this μ.", ""]
    lines += ["## What secure aggregation adds, and what it does not", ""]
    if a.kind == "distributed":
        lines += [f"It hides each hospital's release from the coordinator: with t = {a.threshold} of {a.hospitals}, "
                  f"a coordinator that lies about dropouts together with {a.colluders} colluding hospital(s) "
                  f"still learns only the sum, and the round survives {a.dropouts} dropout(s). It does not hide "
                  "the sum, which is released by design and protected only by the noise in it; it does not "
                  "protect against a coalition larger than declared (their noise shares come off and the "
                  "guarantee weakens, as the audit shows); it does not check that a hospital added its noise "
                  "or clipped its gradients (a malicious hospital can weaken everyone's guarantee).", ""]
        if a.skellam_variance is None:
            lines += ["The noise shares here are floating-point Gaussians and the secure aggregation (Flower's "
                      "SecAgg+) quantises each hospital's noised vector before summing: the proof covers the "
                      "real-valued sum, and the quantisation error (bounded by the number of hospitals times "
                      "one quantisation step per coordinate) is outside it. The in-process path with integer "
                      "Skellam noise inside the ring has no such gap.", ""]
        if a.secure_costs:
            lines += ["Measured cost: " + "; ".join(f"{k} {_f(v)}" for k, v in a.secure_costs.items()) + ".", ""]
    else:
        lines += ["This configuration does not use secure aggregation: "
                  + ("the curator sees every hospital's clipped gradients." if a.kind == "central"
                     else "the coordinator sees each hospital's noised release, which is DP on its own."), ""]
    lines += ["## Empirical audit", ""]
    if a.audit:
        lines += [f"A canary patient whose clipped gradient is C on one coordinate, {a.audit['trials']:,} runs of one "
                  f"round with it and {a.audit['trials']:,} without: ε lower bound {_f(a.audit['epsilon_lb'])} "
                  f"(95 % Clopper–Pearson) against the {_f(a.audit['claimed_one_round'])} one round was calibrated to "
                  f"({_f(a.audit['actual_one_round'])} with the noise actually present). An audit can refute a "
                  "claim, never prove one.", ""]
    else:
        lines += ["No audit was run for this report.", ""]
    lines += ["## Utility cost", ""]
    lines += ([f"- {k}: {_f(v)}" for k, v in a.utility.items()] or ["(not measured)"]) + [""]
    lines += ["## Residual risks", "",
              "- The released model can still reveal population-level facts (that is its purpose) and attribute "
              "inference about a patient from such facts is not prevented by DP.",
              "- Hospitals are assumed to follow the protocol: to clip, to add their noise, to use fresh "
              "randomness from a CSPRNG. The teaching runs use seeded generators.",
              "- Floating-point and fixed-point implementation details: the in-process path adds integer "
              "noise in the ring; a path that adds floating-point noise and then quantises (Flower's SecAgg+) "
              "is covered only up to the quantisation.",
              "- The feature ranges used for scaling are the published extremes widened to one significant "
              "digit; a deployment takes them from clinical references.",
              "- A coordinator that inserts fake hospitals (Sybils) or a hospital that skips its noise or its "
              "clipping weakens every patient's guarantee; nothing here verifies them.", ""]
    where = ("Each patient's clipped gradient goes, without noise, to a trusted curator inside the consortium; "
             "what the curator releases is" if a.kind == "central" else
             "No patient record leaves its hospital. What leaves is")
    factor = math.exp(a.epsilon_with_tuning)
    strength = ("nobody can tell with confidence whether any single patient took part"
                if a.epsilon_with_tuning <= 3 else
                "the bound on what anyone can learn about a single patient is weak: at this ε it allows large "
                "changes in odds, so the consortium should shrink the search (or run it on a pilot cohort) "
                "before relying on it")
    lines += ["## For the IRB, in plain words", "",
              f"{where} a noised summary. By mathematical proof, the chance of any result changes by at most a "
              f"factor of {factor:.3g} (e^ε, ε = {_f(a.epsilon_with_tuning, 3)}, counting every training run) whether "
              f"or not a patient's record is used, up to a probability of {a.delta:g}: {strength}. This holds "
              "whoever sees the final model"
              + (", and against the coordinator even if it colludes with "
                 f"{a.colluders} hospital(s)." if a.kind == "distributed" else
                 ", and whoever sees a hospital's release." if a.kind == "local" else
                 "; it does not protect against the curator itself."), ""]
    params = {k: v for k, v in asdict(a).items() if k not in ("utility", "audit", "secure_costs")}
    lines += ["## Parameters (machine-readable)", "", "```json", json.dumps(params, indent=2), "```", ""]
    return "\n".join(lines)


def write_report(analysis: PrivacyAnalysis, path) -> Path:
    """Write :func:`privacy_report` to ``path`` (a ``.md`` file); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(privacy_report(analysis), encoding="utf-8")
    return path


def parameters_of(report: str) -> dict:
    """The JSON block at the end of a report (what the tests recompute ε from)."""
    start = report.rindex("```json") + len("```json")
    return json.loads(report[start:report.index("```", start)])
