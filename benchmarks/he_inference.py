"""Encrypted inference of one MNIST logistic regression (784 -> 10), per sample against batched,
on the same model, the same CKKS context and the same test images, in one run.

- per sample, ``mm`` (TenSEAL's tutorial 4): one ciphertext per image,
  ``enc_x.mm(W) + b``, a vector-matrix product by the diagonal method
  (about 784 rotations per image);
- per sample, ``dot``: one ciphertext per image, one ``enc_x.dot(W[:, k]) + b[k]``
  per class (10 products, each summed with log2(4096) = 12 rotations);
- batched (``ppml_helpers.he.predict_batched``'s steps, timed apart): ciphertext j
  holds pixel j of 4096 images; each class score is 784 ciphertext x plaintext-scalar
  products plus additions, no rotations.

Every path is timed end to end on one machine: encrypt, evaluate, decrypt (the
data owner's and the server's work together). The model is trained in plaintext
(``ph.train.fit``, SGD) and evaluated on plaintext weights. Prints images per
second and the ratios, the agreement of encrypted and plaintext predictions
(batched: the whole test set; per sample: the first ``--per-sample`` images),
the max absolute score error, and the upload per image.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ppml_helpers import he
from ppml_helpers.config import data_dir
from ppml_helpers.data import load_mnist
from ppml_helpers.models import LogisticRegression
from ppml_helpers.train import fit

PARAMS = he.CKKS_INFERENCE  # N = 8192, [60, 40, 60], scale 2^40: depth 1, 4096 slots


def train_model(epochs: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    x, y = load_mnist("train", data_dir=data_dir())
    xt, yt = load_mnist("test", data_dir=data_dir())
    torch.manual_seed(seed)
    model = LogisticRegression()
    history = fit(model, (x, y), epochs=epochs, lr=0.1, batch_size=64, seed=seed,
                  test_data=(xt, yt), progress=False)
    weights, bias = he.linear_parameters(model)
    return weights, bias, history.test_accuracy[-1]


def per_sample(ctx, x: np.ndarray, weights, bias, method: str) -> tuple[he.Prediction, float]:
    t0 = time.perf_counter()
    pred = he.predict_per_sample(ctx, x, weights, bias, method=method)
    return pred, time.perf_counter() - t0


def batched(ctx, x: np.ndarray, weights, bias) -> tuple[he.Prediction, dict[str, float]]:
    """predict_batched's loop with each step timed: encrypt, linear layer, decrypt."""
    slots = he.context_info(ctx).slots
    times = dict.fromkeys(("encrypt", "evaluate", "decrypt"), 0.0)
    blocks = []
    for start in range(0, len(x), slots):
        t0 = time.perf_counter()
        batch = he.encrypt_batch_features(ctx, x[start : start + slots])
        t1 = time.perf_counter()
        scores = he.encrypted_linear(batch, weights, bias)
        t2 = time.perf_counter()
        blocks.append(he.decrypt_scores(scores))
        t3 = time.perf_counter()
        times["encrypt"] += t1 - t0
        times["evaluate"] += t2 - t1
        times["decrypt"] += t3 - t2
        del batch, scores  # one chunk's 784 ciphertexts (~200 MB) at a time
    scores = np.concatenate(blocks)
    return he.Prediction(labels=scores.argmax(1), scores=scores), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-sample", type=int, default=20,
                        help="test images for the per-sample paths (default 20; ~7.5 s each with mm)")
    parser.add_argument("--batch", type=int, default=10_000,
                        help="test images for the batched path (default 10000: the whole test set)")
    parser.add_argument("--epochs", type=int, default=2, help="plaintext training epochs (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 1 <= args.per_sample <= 10_000:
        parser.error(f"--per-sample must lie in [1, 10000]. Got {args.per_sample}.")
    if not 1 <= args.batch <= 10_000:
        parser.error(f"--batch must lie in [1, 10000]. Got {args.batch}.")

    weights, bias, accuracy = train_model(args.epochs, args.seed)
    x_test, y_test = load_mnist("test", data_dir=data_dir())
    x = x_test.reshape(len(x_test), -1).double().numpy()
    y = y_test.numpy()
    plain = he.plaintext_linear(x, weights, bias)

    t0 = time.perf_counter()
    ctx = PARAMS.context(galois_keys=True)  # per sample needs rotations; batched ignores them
    keygen = time.perf_counter() - t0
    info, keys = he.context_info(ctx), he.key_sizes(ctx)
    import tenseal as ts

    ct_bytes = len(ts.ckks_vector(ctx, x[0].tolist()).serialize())
    print(f"TenSEAL {ts.__version__}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"MNIST logistic regression 784->10 ({args.epochs} epochs SGD, plaintext test accuracy "
          f"{accuracy:.4f})")
    print(f"CKKS N = {info.poly_modulus_degree}, primes {list(info.coeff_mod_bit_sizes)}, scale 2^"
          f"{info.global_scale_bits:.0f}, {info.slots} slots, depth {info.depth}; "
          f"{PARAMS.report().verdict.split(':')[0]}; keys in {keygen:.2f} s "
          f"(Galois keys {keys.galois_keys / 1e6:.1f} MB); one ciphertext {ct_bytes / 1e3:.0f} kB")

    n_ps, n_b = args.per_sample, args.batch
    mm, t_mm = per_sample(ctx, x[:n_ps], weights, bias, "mm")
    dot, t_dot = per_sample(ctx, x[:n_ps], weights, bias, "dot")
    bat, times = batched(ctx, x[:n_b], weights, bias)
    t_bat = sum(times.values())

    rates = {"per-sample mm": n_ps / t_mm, "per-sample dot": n_ps / t_dot, "batched": n_b / t_bat}
    rows = [("per-sample mm (tutorial)", n_ps, t_mm), ("per-sample dot x10", n_ps, t_dot),
            ("batched (SIMD)", n_b, t_bat)]
    print()
    print(f"{'path':>26} {'images':>7} {'seconds':>9} {'images/s':>10} {'ms/image':>9}")
    for name, n, seconds in rows:
        print(f"{name:>26} {n:>7} {seconds:9.2f} {n / seconds:10.2f} {1000 * seconds / n:9.2f}")
    print(f"batched steps: encrypt {times['encrypt']:.2f} s ({-(-n_b // info.slots)} chunks x 784 "
          f"ciphertexts), evaluate {times['evaluate']:.2f} s, decrypt {times['decrypt']:.2f} s")
    print(f"throughput ratio batched / per-sample mm: {rates['batched'] / rates['per-sample mm']:.0f}x; "
          f"batched / per-sample dot: {rates['batched'] / rates['per-sample dot']:.0f}x")
    upload_batched = 784 * ct_bytes / min(n_b, info.slots)
    print(f"upload per image: per sample {ct_bytes / 1e3:.0f} kB (one ciphertext); batched "
          f"{upload_batched / 1e3:.1f} kB (784 ciphertexts per {min(n_b, info.slots)} images)")

    print()
    ref_labels = plain.argmax(1)
    for name, pred, n in (("per-sample mm", mm, n_ps), ("per-sample dot", dot, n_ps), ("batched", bat, n_b)):
        agree = float(np.mean(pred.labels == ref_labels[:n]))
        prec = he.precision_report(pred.scores, plain[:n])
        acc = float(np.mean(pred.labels == y[:n]))
        print(f"{name:>15} vs plaintext on {n:>5} images: predictions agree {100 * agree:.2f} % "
              f"({int(np.sum(pred.labels == ref_labels[:n]))}/{n}), max |score error| {prec.max_abs_error:.2e}, "
              f"encrypted accuracy {acc:.4f}")
    same = float(np.mean(bat.labels[:n_ps] == mm.labels)) if n_b >= n_ps else float("nan")
    print(f"batched vs per-sample mm on the first {n_ps} images: predictions agree {100 * same:.0f} %")


if __name__ == "__main__":
    main()
