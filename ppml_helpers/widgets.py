"""ipywidgets explorers for the notebooks; each returns a widget to display.

Introduced in ``01_federated_averaging`` (Dirichlet alpha against label skew) and
``03_differential_privacy`` (epsilon, delta and sensitivity against noise).
"""

from __future__ import annotations

import numpy as np

from .config import check_seed
from .data.partitions import label_skew, partition_dirichlet, partition_summary

__all__ = ["dirichlet_explorer", "he_parameter_explorer", "noise_explorer"]


def dirichlet_explorer(labels, num_clients: int = 20, *, seed: int = 0, alpha: float = 1.0):
    """A slider for Dirichlet alpha (log scale, 0.01 to 1000) that redraws the partition heatmap.

    Each move re-partitions ``labels`` among ``num_clients`` with
    :func:`~ppml_helpers.data.partition_dirichlet` (same ``seed``) and shows the
    per-client label counts and the mean top-label share (:func:`label_skew`).

    Returns:
        An ``ipywidgets.VBox``; its ``.children`` are the slider, a summary line and the plot.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from .plots import plot_partition

    check_seed(seed)
    slider = w.FloatLogSlider(value=alpha, base=10, min=-2, max=3, step=0.1, description="alpha",
                              continuous_update=False, readout_format=".3g")
    summary_line = w.HTML()
    out = w.Output()

    def redraw(change=None):
        a = float(slider.value)
        parts = partition_dirichlet(labels, num_clients, alpha=a, seed=seed, min_size=1)
        skew = label_skew(labels, parts)
        sizes = [len(p) for p in parts]
        summary_line.value = (
            f"alpha = {a:.3g}: mean top-label share {skew:.2f} "
            f"(balanced: {1 / len(np.unique(np.asarray(labels))):.2f}); "
            f"client sizes {min(sizes)} to {max(sizes)}"
        )
        out.clear_output(wait=True)
        with out:
            fig, _ = plot_partition(partition_summary(labels, parts), title=f"Dirichlet(alpha={a:.3g})")
            plt.show()
            plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    return w.VBox([slider, summary_line, out])


def noise_explorer(true_answer: float, *, epsilon: float = 1.0, delta: float = 1e-5,
                   sensitivity: float = 1.0, seed: int = 0, draws: int = 2000):
    """Sliders for ε, δ and the sensitivity Δ that redraw the Laplace and Gaussian noise on one answer.

    Each move recomputes the Laplace scale b = Δ/ε and the analytic Gaussian σ
    (:func:`~ppml_helpers.dp.gaussian_sigma`), plots both densities around
    ``true_answer`` with a histogram of ``draws`` releases of each (seeded),
    and states the expected absolute error of each (b and σ·sqrt(2/π)).

    Returns:
        An ``ipywidgets.VBox``: the three sliders, a summary line and the plot.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from scipy import stats

    from .dp import NoiseSource, gaussian_sigma, laplace_scale

    check_seed(seed)
    eps_s = w.FloatLogSlider(value=epsilon, base=10, min=-2, max=1, step=0.05, description="ε",
                             continuous_update=False, readout_format=".3g")
    delta_s = w.FloatLogSlider(value=delta, base=10, min=-10, max=-2, step=0.5, description="δ",
                               continuous_update=False, readout_format=".0e")
    sens_s = w.FloatLogSlider(value=sensitivity, base=10, min=-1, max=1, step=0.05,
                              description="Δ", continuous_update=False, readout_format=".3g")
    summary_line = w.HTML()
    out = w.Output()

    def redraw(change=None):
        eps, d, sens = float(eps_s.value), float(delta_s.value), float(sens_s.value)
        b = laplace_scale(sensitivity=sens, epsilon=eps)
        sigma = gaussian_sigma(epsilon=eps, delta=d, sensitivity=sens)
        summary_line.value = (
            f"ε = {eps:.3g}, δ = {d:.0e}, Δ = {sens:.3g}: Laplace scale b = {b:.3g} "
            f"(expected |error| {b:.3g}); Gaussian σ = {sigma:.3g} "
            f"(expected |error| {sigma * np.sqrt(2 / np.pi):.3g})"
        )
        src = NoiseSource(seed=seed)
        lap = true_answer + src.laplace(draws, scale=b)
        gau = true_answer + src.normal(draws, std=sigma)
        width = 4 * max(b * 3, sigma)
        grid = np.linspace(true_answer - width, true_answer + width, 400)
        out.clear_output(wait=True)
        with out:
            fig, ax = plt.subplots(figsize=(7, 3.2))
            bins = np.linspace(grid[0], grid[-1], 60)
            ax.hist(lap, bins=bins, density=True, alpha=0.3, color="C0")
            ax.hist(gau, bins=bins, density=True, alpha=0.3, color="C1")
            ax.plot(grid, stats.laplace(true_answer, b).pdf(grid), "C0", label=f"Laplace, b={b:.3g}")
            ax.plot(grid, stats.norm(true_answer, sigma).pdf(grid), "C1", label=f"Gaussian, σ={sigma:.3g}")
            ax.axvline(true_answer, color="k", lw=1, ls="--", label="true answer")
            ax.set(xlabel="released answer", ylabel="density")
            ax.legend(loc="upper right", fontsize=8)
            plt.show()
            plt.close(fig)

    for s in (eps_s, delta_s, sens_s):
        s.observe(redraw, names="value")
    redraw()
    return w.VBox([eps_s, delta_s, sens_s, summary_line, out])


def roc_explorer(member_scores, nonmember_scores, *, delta: float = 0.0):
    """A threshold slider that moves along an attack's ROC and shows the counts at that point.

    The slider picks a quantile of all the scores as the threshold (flag
    "member" when score ≥ threshold); the line shows the counts, TPR, FPR and
    the point estimate ln((TPR − δ) / FPR). That estimate is **not** a
    certified ε: scores pooled over many records and models are not repeated
    runs of one mechanism on one pair of neighbouring datasets, and a threshold
    picked on the same scores is fitted to them. A certified lower bound needs
    an audit (:func:`~ppml_helpers.mia.audit_mechanism`: runs of one mechanism,
    the threshold chosen on separate runs, Clopper–Pearson intervals), or a
    one-run audit (Steinke, Nasr & Jagielski 2023). The plot marks the point on
    the log-log ROC.

    Returns:
        An ``ipywidgets.VBox``: the slider, the summary line and the plot.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from .mia import check_scores, epsilon_lower_bound, roc_curve

    members = check_scores(member_scores, "member_scores")
    nonmembers = check_scores(nonmember_scores, "nonmember_scores")
    fpr, tpr, _ = roc_curve(members, nonmembers)
    everything = np.sort(np.concatenate([members, nonmembers]))
    slider = w.FloatSlider(value=0.99, min=0.0, max=1.0, step=0.001, description="quantile",
                           continuous_update=False, readout_format=".3f")
    summary_line = w.HTML()
    out = w.Output()

    def redraw(change=None):
        threshold = float(np.quantile(everything, slider.value))
        tp, fp = int((members >= threshold).sum()), int((nonmembers >= threshold).sum())
        bound = epsilon_lower_bound(tp=tp, fn=members.size - tp, fp=fp, tn=nonmembers.size - fp,
                                    alpha=0.05, delta=delta)
        summary_line.value = (
            f"threshold {threshold:.4g}: TP = {tp}, FP = {fp}; TPR = {bound.tpr:.4f}, "
            f"FPR = {bound.fpr:.4f}; ln((TPR - δ)/FPR) = {bound.epsilon_point:.3g}: a point estimate "
            "for these pooled scores at a threshold picked on them, not a certified ε (an audit, "
            "section 7, certifies one)"
        )
        out.clear_output(wait=True)
        with out:
            fig, ax = plt.subplots(figsize=(4.5, 4))
            floor = 0.5 / max(members.size, nonmembers.size)
            ax.loglog(np.maximum(fpr, floor), np.maximum(tpr, floor), label="attack")
            ax.loglog([floor, 1], [floor, 1], "k:", lw=1, label="guessing")
            ax.plot(max(bound.fpr, floor), max(bound.tpr, floor), "o", color="C3", label="threshold")
            ax.set(xlabel="false-positive rate", ylabel="true-positive rate")
            ax.legend(fontsize=8)
            plt.show()
            plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    return w.VBox([slider, summary_line, out])


def he_parameter_explorer(*, poly_modulus_degree: int = 8192, first_bits: int = 60, depth: int = 2,
                          middle_bits: int = 40, special_bits: int = 60, scale_bits: int = 40):
    """A degree menu and sliders for a CKKS modulus chain, showing what the parameter set gives.

    The chain is ``[first, middle × depth, special]`` with scale ``2**scale_bits``.
    Each change recomputes :func:`~ppml_helpers.he.parameter_report` (never
    raises) and shows its verdict (128-bit secure, insecure or invalid, with
    every problem found), the modulus bits against the limit for the degree,
    slots, depth, the size of a fresh ciphertext and the largest value that
    decrypts correctly; the plot stacks the primes against the limit.
    Introduced in ``07_homomorphic_encryption``.

    Returns:
        An ``ipywidgets.VBox``: the degree dropdown, sliders for the first prime, the
        depth (number of middle primes), the middle primes, the special prime and
        the scale, then the summary (HTML) and the plot.

    Raises:
        ValueError: a degree outside the 128-bit table, or a start value outside its
            slider (bits 10 to 60, depth 0 to 30).
    """
    import html

    import ipywidgets as w
    import matplotlib.pyplot as plt

    from .he import MAX_COEFF_MODULUS_BITS, parameter_report

    if poly_modulus_degree not in MAX_COEFF_MODULUS_BITS:
        raise ValueError(
            f"poly_modulus_degree must be one of {list(MAX_COEFF_MODULUS_BITS)}. Got {poly_modulus_degree!r}."
        )
    for name, value, low, high in (("first_bits", first_bits, 10, 60), ("depth", depth, 0, 30),
                                   ("middle_bits", middle_bits, 10, 60), ("special_bits", special_bits, 10, 60),
                                   ("scale_bits", scale_bits, 10, 60)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}. Got {value!r}.")
    style = {"description_width": "9em"}
    degree = w.Dropdown(options=list(MAX_COEFF_MODULUS_BITS), value=poly_modulus_degree,
                        description="degree N", style=style)

    def slider(value, low, high, description):
        return w.IntSlider(value=value, min=low, max=high, description=description, style=style,
                           continuous_update=False)

    first = slider(first_bits, 10, 60, "first prime bits")
    levels = slider(depth, 0, 30, "middle primes")
    middle = slider(middle_bits, 10, 60, "middle prime bits")
    special = slider(special_bits, 10, 60, "special prime bits")
    scale = slider(scale_bits, 10, 60, "scale bits")
    summary_line = w.HTML()
    out = w.Output()

    def redraw(change=None):
        chain = [first.value, *[middle.value] * levels.value, special.value]
        report = parameter_report(poly_modulus_degree=degree.value, coeff_mod_bit_sizes=chain,
                                  global_scale_bits=scale.value)
        colour = "#1a7f37" if report.valid else "#cf222e"
        numbers = (
            f"chain {chain}: {report.total_bits} of {report.max_bits} modulus bits; "
            f"slots = {report.slots}; depth = {report.depth}; "
            f"ciphertext = {report.ciphertext_bytes / 1024:.0f} KiB (fresh, in memory)"
        )
        if report.max_abs_value is not None:
            numbers += f"; values decrypt correctly while |x| < {report.max_abs_value:g}"
        problems = "".join(f"<li>{html.escape(p)}</li>" for p in report.problems[1:])
        summary_line.value = (
            f'<div style="border-left:4px solid {colour};padding:4px 10px">'
            f"<b>{html.escape(report.verdict)}</b><br>{html.escape(numbers)}"
            + (f"<br>also:<ul>{problems}</ul>" if problems else "") + "</div>"
        )
        out.clear_output(wait=True)
        with out:
            fig, ax = plt.subplots(figsize=(7, 1.6))
            left = 0
            for i, bits in enumerate(chain):
                kind = 0 if i == 0 else 2 if i == len(chain) - 1 else 1
                ax.barh(0, bits, left=left, color=f"C{kind}", edgecolor="white",
                        label=("first", "middle", "special")[kind] if i in (0, 1, len(chain) - 1) else None)
                left += bits
            ax.axvline(report.max_bits, color="k", ls="--", lw=1.5, label=f"128-bit limit ({report.max_bits})")
            ax.set(xlim=(0, max(left, report.max_bits) * 1.05), yticks=[], xlabel="coefficient-modulus bits")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.55), ncol=4, fontsize=8, frameon=False)
            plt.show()
            plt.close(fig)

    controls = (degree, first, levels, middle, special, scale)
    for control in controls:
        control.observe(redraw, names="value")
    redraw()
    return w.VBox([*controls, summary_line, out])
