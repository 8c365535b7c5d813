"""Encrypted inference of a linear model (logistic regression): batched (SIMD) and per sample.

Batched: ciphertext j holds feature j of up to N/2 samples, one sample per
slot. A linear layer is then, for each output k,
``Σ_j enc_x[j] · W[j, k] + b[k]``: d ciphertext × plaintext-scalar products
and additions, no rotations (so no Galois keys), one level of depth, and
every product serves N/2 samples at once. Per sample (TenSEAL's tutorials):
one ciphertext per sample, then ``enc_x.dot(w)`` or ``enc_x.mm(W)``, which
sum across slots with rotations: d rotations per sample for ``mm``.

The model stays in plaintext on the server; the inputs and scores stay
encrypted; only the secret-key holder (the data owner) decrypts the scores.
Introduced in ``07_homomorphic_encryption``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .context import check_context
from .sigmoid import PolynomialApproximation, encrypted_polyval, levels_left

__all__ = [
    "EncryptedBatch",
    "EncryptedScores",
    "Prediction",
    "decrypt_scores",
    "encrypt_batch_features",
    "encrypted_linear",
    "encrypted_sigmoid",
    "linear_parameters",
    "plaintext_linear",
    "predict_batched",
    "predict_per_sample",
]

_METHODS = ("mm", "dot")


@dataclass(frozen=True)
class EncryptedBatch:
    """Samples packed feature-wise: ``chunks[k][j]`` encrypts feature j of the samples of chunk k.

    Chunk k holds samples ``k·slots`` to ``(k+1)·slots − 1`` (the last one fewer).
    """

    chunks: tuple[tuple, ...]
    n_samples: int
    n_features: int

    @property
    def chunk_sizes(self) -> tuple[int, ...]:
        return tuple(chunk[0].size() for chunk in self.chunks)

    @property
    def num_ciphertexts(self) -> int:
        return len(self.chunks) * self.n_features


@dataclass(frozen=True)
class EncryptedScores:
    """Encrypted outputs: ``chunks[k][i]`` holds output i for the samples of chunk k.

    ``vector_weights`` records 1-D weights (one score per sample: decrypts to shape [n]).
    """

    chunks: tuple[tuple, ...]
    n_samples: int
    n_outputs: int
    vector_weights: bool


class Prediction(NamedTuple):
    """Decrypted scores ([n, c], or [n] for 1-D weights) and labels (argmax, or score > 0)."""

    labels: np.ndarray
    scores: np.ndarray


# ---------------------------------------------------------------- inputs


def _as_array(value, name: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers. Got {type(value).__name__}.") from exc
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no NaN or infinity).")
    return arr


def _as_samples(x, name: str = "x") -> np.ndarray:
    arr = _as_array(x, name)
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape [samples, features...] with at least one sample "
            f"(for one sample use x[None]). Got shape {arr.shape}."
        )
    return arr.reshape(arr.shape[0], -1)


def _as_model(weights, bias, n_features: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Weights as [d, c] and bias as [c]; the flag says the weights were 1-D."""
    w = _as_array(weights, "weights")
    if w.ndim not in (1, 2) or w.shape[0] != n_features or w.size == 0:
        raise ValueError(
            f"weights must have shape [{n_features}] or [{n_features}, outputs] "
            f"(features × outputs, so scores = x @ weights + bias). Got shape {w.shape}."
        )
    vector = w.ndim == 1
    w2 = w[:, None] if vector else w
    b = _as_array(bias, "bias")
    outputs = w2.shape[1]
    if vector and b.size == 1:
        b = b.reshape(1)
    if b.shape != (outputs,):
        want = "a number" if vector else f"shape [{outputs}]"
        raise ValueError(f"bias must be {want} (one per output). Got shape {b.shape}.")
    return w2, b, vector


def linear_parameters(model) -> tuple[np.ndarray, np.ndarray | float]:
    """``(weights, bias)`` of a model whose only parameterised layer is one ``nn.Linear``.

    Returns weights as [in_features, out_features] (the transpose of PyTorch's
    ``weight``, so scores = x @ weights + bias) and bias as [out_features];
    for one output, weights [in_features] and a float bias.
    """
    from torch import nn

    layers = [m for m in model.modules() if isinstance(m, nn.Linear)] if isinstance(model, nn.Module) else []
    others = [
        m for m in (model.modules() if isinstance(model, nn.Module) else [])
        if not isinstance(m, nn.Linear) and any(True for _ in m.parameters(recurse=False))
    ]  # fmt: skip
    if len(layers) != 1 or others:
        raise ValueError(
            "model must hold exactly one nn.Linear and no other parameterised layer "
            f"(a logistic regression, e.g. ph.models.LogisticRegression). Got {type(model).__name__}."
        )
    (layer,) = layers
    w = layer.weight.detach().cpu().double().numpy().T.copy()
    b = (layer.bias.detach().cpu().double().numpy() if layer.bias is not None
         else np.zeros(layer.out_features))  # fmt: skip
    if layer.out_features == 1:
        return w[:, 0], float(b[0])
    return w, b


def plaintext_linear(x, weights, bias) -> np.ndarray:
    """The plaintext reference ``x @ weights + bias`` in float64 ([n, c], or [n] for 1-D weights)."""
    xs = _as_samples(x)
    w, b, vector = _as_model(weights, bias, xs.shape[1])
    scores = xs @ w + b
    return scores[:, 0] if vector else scores


def _labels(scores: np.ndarray) -> np.ndarray:
    return (scores > 0).astype(np.int64) if scores.ndim == 1 else scores.argmax(axis=1)


# ---------------------------------------------------------------- batched


def encrypt_batch_features(context, x) -> EncryptedBatch:
    """Encrypt samples feature-wise: one ciphertext per feature per chunk of ``slots`` samples.

    Args:
        context: a CKKS context (``ckks_context``), public key at least.
        x: [n, d] (or [n, ...], flattened per sample), e.g. MNIST images [n, 1, 28, 28].

    Returns:
        An :class:`EncryptedBatch` of ⌈n / slots⌉ × d ciphertexts. Memory:
        each is 2·N·(primes − 1)·8 bytes, 256 KiB at N = 8192 with 3 primes,
        so 784 features × one chunk ≈ 200 MB; :func:`predict_batched` keeps one
        chunk at a time.
    """
    import tenseal as ts

    info = check_context(context, scheme="ckks")
    xs = _as_samples(x)
    chunks = []
    for start in range(0, xs.shape[0], info.slots):
        block = xs[start : start + info.slots]
        chunks.append(tuple(ts.ckks_vector(context, column.tolist()) for column in block.T))
    return EncryptedBatch(chunks=tuple(chunks), n_samples=xs.shape[0], n_features=xs.shape[1])


def encrypted_linear(batch: EncryptedBatch, weights, bias) -> EncryptedScores:
    """Scores ``x @ weights + bias`` on a feature-packed batch: products by plaintext scalars only.

    For output k: ``Σ_j batch[j] · W[j, k] + b[k]``, d scalar multiplications (each
    followed by a rescale: one level in all) and d additions per chunk, for
    all the chunk's samples at once. No rotations, so no Galois keys. Weights
    that are exactly 0 are skipped.

    Args:
        batch: from :func:`encrypt_batch_features`.
        weights: [d, c] (or [d] for one score); bias: [c] (or a number).

    Raises:
        ValueError: shapes that do not match the batch, or no level left for the product.
    """
    if not isinstance(batch, EncryptedBatch):
        raise TypeError(f"batch must be an EncryptedBatch (from encrypt_batch_features). Got {type(batch).__name__}.")
    w, b, vector = _as_model(weights, bias, batch.n_features)
    if levels_left(batch.chunks[0][0]) < 1:
        raise ValueError(
            "the batch's context has depth 0 (no middle prime), but multiplying by the weights "
            "needs one rescale: use a context with a middle prime, e.g. he.CKKS_INFERENCE."
        )
    chunks = []
    for features in batch.chunks:
        outputs = []
        for k in range(w.shape[1]):
            acc = None
            for j, weight in enumerate(w[:, k]):
                if weight == 0.0 and (acc is not None or j < len(features) - 1):
                    continue  # TenSEAL turns a product by 0 into a fresh encryption of 0: skip it
                term = features[j] * float(weight)
                acc = term if acc is None else acc.add_(term)
            outputs.append(acc + float(b[k]))
        chunks.append(tuple(outputs))
    return EncryptedScores(chunks=tuple(chunks), n_samples=batch.n_samples, n_outputs=w.shape[1],
                           vector_weights=vector)


def encrypted_sigmoid(scores: EncryptedScores, approximation: PolynomialApproximation) -> EncryptedScores:
    """Apply a polynomial (e.g. :func:`sigmoid_approximation`) to every encrypted score.

    Costs ``approximation.depth`` levels on top of the linear layer's one
    (3 in all for the cubic: use ``CKKS_SIGMOID``). Scores outside the fitted
    interval come out wrong, not clipped.
    """
    if not isinstance(scores, EncryptedScores):
        raise TypeError(f"scores must be EncryptedScores (from encrypted_linear). Got {type(scores).__name__}.")
    chunks = tuple(tuple(encrypted_polyval(v, approximation) for v in chunk) for chunk in scores.chunks)
    return EncryptedScores(chunks=chunks, n_samples=scores.n_samples, n_outputs=scores.n_outputs,
                           vector_weights=scores.vector_weights)


def decrypt_scores(scores: EncryptedScores) -> np.ndarray:
    """Decrypt to float64 [n, c] ([n] for 1-D weights); needs the context's secret key."""
    if not isinstance(scores, EncryptedScores):
        raise TypeError(f"scores must be EncryptedScores (from encrypted_linear). Got {type(scores).__name__}.")
    first = scores.chunks[0][0]
    if not first.context().has_secret_key():
        raise ValueError(
            "scores' context holds no secret key (a public context, as sent to the server): "
            "only the key holder can decrypt."
        )
    blocks = [np.column_stack([np.asarray(v.decrypt()) for v in chunk]) for chunk in scores.chunks]
    out = np.concatenate(blocks, axis=0)
    return out[:, 0] if scores.vector_weights else out


def predict_batched(context, x, weights, bias, *, progress: bool = False) -> Prediction:
    """Encrypt ``x`` feature-wise, evaluate the linear model encrypted, decrypt: one chunk at a time.

    Args:
        context: a CKKS context with at least one level (``CKKS_INFERENCE``) and the secret key.
        x: [n, d] or [n, ...]; weights [d, c] or [d]; bias [c] or a number.
        progress: show a ``tqdm.auto`` bar over chunks.

    Returns:
        A :class:`Prediction`: decrypted scores and labels (argmax; score > 0 for 1-D weights).
    """
    from tqdm.auto import tqdm

    info = check_context(context, scheme="ckks")
    xs = _as_samples(x)
    _as_model(weights, bias, xs.shape[1])  # fail before encrypting anything
    blocks = []
    starts = range(0, xs.shape[0], info.slots)
    for start in tqdm(starts, desc="chunks", leave=False, disable=not progress):
        batch = encrypt_batch_features(context, xs[start : start + info.slots])
        blocks.append(decrypt_scores(encrypted_linear(batch, weights, bias)))
    scores = np.concatenate(blocks, axis=0)
    return Prediction(labels=_labels(scores), scores=scores)


# ---------------------------------------------------------------- per sample


def predict_per_sample(context, x, weights, bias, *, method: str = "mm", progress: bool = False) -> Prediction:
    """One ciphertext per sample, as in TenSEAL's tutorials: ``enc_x.mm(W) + b`` or ``enc_x.dot(w) + b``.

    Args:
        context: a CKKS context with Galois keys (the sums across slots rotate).
        x: [n, d] or [n, ...] with d ≤ slots; weights [d, c] or [d]; bias [c] or a number.
        method: for 2-D weights, ``"mm"`` (tutorial 4: one vector–matrix product,
            the diagonal method with about d rotations) or ``"dot"`` (one
            ``dot`` per output: c products, each summed with log2(slots)
            rotations). 1-D weights always use ``dot`` (tutorial 1).
        progress: show a ``tqdm.auto`` bar over samples.

    Raises:
        ValueError: no Galois keys, an unknown method, d > slots, or mismatched shapes.
    """
    import tenseal as ts
    from tqdm.auto import tqdm

    info = check_context(context, scheme="ckks")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}. Got {method!r}.")
    if not info.has_galois_keys:
        raise ValueError(
            "context has no Galois keys, but dot and mm sum across slots with rotations: "
            "build it with galois_keys=True (batched inference needs none)."
        )
    if info.depth < 1:
        raise ValueError("context has depth 0: the product by the weights needs one level (e.g. he.CKKS_INFERENCE).")
    xs = _as_samples(x)
    if xs.shape[1] > info.slots:
        raise ValueError(f"x has {xs.shape[1]} features, more than the {info.slots} slots of one ciphertext.")
    w, b, vector = _as_model(weights, bias, xs.shape[1])
    matrix, columns, bias_list = w.tolist(), [col.tolist() for col in w.T], b.tolist()
    scores = np.empty((xs.shape[0], w.shape[1]))
    for i in tqdm(range(xs.shape[0]), desc="samples", leave=False, disable=not progress):
        enc_x = ts.ckks_vector(context, xs[i].tolist())
        if vector or method == "dot":
            scores[i] = [(enc_x.dot(col) + bk).decrypt()[0] for col, bk in zip(columns, bias_list, strict=True)]
        else:
            scores[i] = (enc_x.mm(matrix) + bias_list).decrypt()
    out = scores[:, 0] if vector else scores
    return Prediction(labels=_labels(out), scores=out)
