"""Appendix A1's bridge between the course (PyTorch) and TensorFlow Federated / TF Privacy.

Keras twins of the course's 2NN and logistic regression, the weights of a torch model
in Keras's layout (so both frameworks start from the same point), a client's data as
the ``tf.data.Dataset`` TFF expects, and the stop for the ``worker_binary`` process TFF
starts and never stops. TensorFlow is imported inside the functions that need it: the
module imports anywhere, and only the ``ppml-tf`` kernel (``make tf-kernel``) runs them.
"""

from __future__ import annotations

import numpy as np

from .kernels import stop_processes

__all__ = [
    "TFF_WORKER",
    "client_datasets",
    "keras_logistic",
    "keras_mlp",
    "keras_weights_from_torch",
    "stop_tff_workers",
]

#: The name of the executor process TFF's Python runtime starts and leaves running.
TFF_WORKER = "worker_binary"


def keras_weights_from_torch(state) -> list[np.ndarray]:
    """A stack of torch ``nn.Linear`` layers' weights, in the order Keras ``Dense`` layers take.

    Args:
        state: a torch ``state_dict`` (or any mapping, in layer order) of ``*.weight``
            (``out x in``) and ``*.bias`` (``out``) entries, tensors or arrays.

    Returns:
        ``[kernel_1, bias_1, kernel_2, ...]`` as float32 arrays, each kernel ``in x out``
        (the transpose of torch's), for ``keras_model.set_weights``.

    Raises:
        ValueError: an entry that is neither a 2-D weight nor a 1-D bias, or a weight
            not followed by its bias.
    """
    items = [(k, np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v, dtype=np.float32))
             for k, v in dict(state).items()]
    if not items or len(items) % 2:
        raise ValueError(f"state must hold (weight, bias) pairs of linear layers, got keys {[k for k, _ in items]}.")
    out = []
    for (wk, w), (bk, b) in zip(items[::2], items[1::2], strict=True):
        if not (wk.endswith("weight") and w.ndim == 2 and bk.endswith("bias") and b.shape == (w.shape[0],)):
            raise ValueError(f"state must alternate a 2-D '*.weight' (out x in) and its '*.bias' (out); "
                             f"got {wk!r} {w.shape} then {bk!r} {b.shape}.")
        out += [np.ascontiguousarray(w.T), b]
    return out


def keras_mlp(in_features: int = 784, hidden: int = 200, num_classes: int = 10):
    """McMahan et al.'s 2NN in Keras (784-200-200-10, ReLU, logits out): ``ph.models.MLP``'s twin."""
    import tensorflow as tf

    return tf.keras.Sequential([
        tf.keras.layers.InputLayer(input_shape=(in_features,)),
        tf.keras.layers.Dense(hidden, activation="relu"),
        tf.keras.layers.Dense(hidden, activation="relu"),
        tf.keras.layers.Dense(num_classes),
    ])


def keras_logistic(in_features: int, num_classes: int = 2):
    """Multinomial logistic regression in Keras (one Dense layer, logits out): ``ph.models.LogisticRegression``'s twin."""
    import tensorflow as tf

    return tf.keras.Sequential([tf.keras.layers.InputLayer(input_shape=(in_features,)),
                                tf.keras.layers.Dense(num_classes)])


def client_datasets(x, y, partitions, *, batch_size: int, seed: int) -> list:
    """One ``tf.data.Dataset`` of ``(flattened float32 x, int64 y)`` batches per client.

    Each client's examples are shuffled afresh every time TFF iterates them (every
    round), from ``seed`` plus the client's index, as the course's clients do.

    Raises:
        ValueError: an empty partition, or a batch size below 1.
    """
    import tensorflow as tf

    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float32).reshape(len(x), -1)
    y = np.asarray(y.numpy() if hasattr(y, "numpy") else y, dtype=np.int64)
    datasets = []
    for i, part in enumerate(partitions):
        part = np.asarray(part)
        if part.size == 0:
            raise ValueError(f"partitions[{i}] is empty; every client needs at least one example.")
        ds = tf.data.Dataset.from_tensor_slices((x[part], y[part]))
        datasets.append(ds.shuffle(len(part), seed=seed + i, reshuffle_each_iteration=True).batch(batch_size))
    return datasets


def stop_tff_workers(pid: int | None = None) -> list[int]:
    """Stop the ``worker_binary`` processes below ``pid`` (default: this process); return their pids.

    TFF's runtime starts one on the first computation and never stops it; left alone it
    outlives the kernel and holds its output open, so a notebook calls this last.
    """
    import os

    import psutil

    try:
        children = psutil.Process(os.getpid() if pid is None else pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    workers = []
    for child in children:
        try:
            if child.name() == TFF_WORKER:
                workers.append(child)
        except psutil.Error:
            continue
    return stop_processes(workers)
