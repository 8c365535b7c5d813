"""Self-checks of 04_dp_sgd: right answers pass, typical wrong ones fail with a hint that does
not give the answer, unsolved ones show "not attempted yet"."""

from __future__ import annotations

import torch
from exercise_contract import contract_tests

from ppml_helpers import exercises as ex
from ppml_helpers.plots import privacy_utility_table


def clip_joint(per_sample, max_grad_norm):
    flat = torch.cat([g.reshape(len(g), -1) for g in per_sample.values()], dim=1)
    factor = (max_grad_norm / (flat.norm(dim=1) + 1e-6)).clamp(max=1.0)
    return {k: g * factor.view(-1, *[1] * (g.dim() - 1)) for k, g in per_sample.items()}


def clip_each_tensor(per_sample, max_grad_norm):
    out = {}
    for k, g in per_sample.items():
        factor = (max_grad_norm / (g.reshape(len(g), -1).norm(dim=1) + 1e-6)).clamp(max=1.0)
        out[k] = g * factor.view(-1, *[1] * (g.dim() - 1))
    return out


def poisson(num_samples, sample_rate, generator):
    return (torch.rand(num_samples, generator=generator) < sample_rate).nonzero().view(-1)


def fixed_size(num_samples, sample_rate, generator):
    return torch.randperm(num_samples, generator=generator)[: round(num_samples * sample_rate)]


def noisy(clipped_sum, noise_multiplier, max_grad_norm, expected_batch_size, generator):
    std = noise_multiplier * max_grad_norm
    return {k: (g + torch.normal(0.0, std, g.shape, generator=generator)) / expected_batch_size
            for k, g in clipped_sum.items()}


def noise_without_clip_norm(clipped_sum, noise_multiplier, max_grad_norm, expected_batch_size, generator):
    return {k: (g + torch.normal(0.0, noise_multiplier, g.shape, generator=generator)) / expected_batch_size
            for k, g in clipped_sum.items()}


def lowest(results, floor):
    table = privacy_utility_table(results)
    ok = table[table["mean"] >= floor]
    return None if ok.empty else float(ok.index.min())


def lowest_any_seed(results, floor):
    ok = results[results["accuracy"] >= floor]
    return None if ok.empty else float(ok["epsilon"].min())


CASES = [
    (ex.check_clip_per_example, clip_joint, clip_each_tensor),
    (ex.check_poisson_batch, poisson, fixed_size),
    (ex.check_noisy_average, noisy, noise_without_clip_norm),
    (ex.check_lowest_epsilon, lowest, lowest_any_seed),
]

test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests(CASES)


def test_the_typical_mistakes_get_their_own_message():
    assert "each parameter tensor on its own" in ex.check_clip_per_example(clip_each_tensor).message
    assert "not Poisson sampling" in ex.check_poisson_batch(fixed_size).message
    assert "lucky seed" in ex.check_lowest_epsilon(lowest_any_seed).message
