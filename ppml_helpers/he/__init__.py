"""Homomorphic encryption with TenSEAL 0.3.x: secure CKKS/BFV contexts, encrypted inference and aggregation.

Introduced in ``07_homomorphic_encryption``. TenSEAL (on Microsoft SEAL) does
the cryptography; this package adds what the course needs around it:

- ``params``: the HE standard's 128-bit table, checks with errors that say what
  would be secure, presets (``CKKS_INFERENCE``, ``CKKS_SIGMOID``,
  ``CKKS_AGGREGATION``, ``BFV_DEFAULT``); ``security``: a never-raising
  ``parameter_report`` for the parameter explorer, ``parameter_table``, and
  SEAL's own verdict.
- ``context``: ``ckks_context`` / ``bfv_context`` (checked, then TenSEAL),
  ``context_info``, ``key_sizes``.
- ``inference``: batched (feature-packed, SIMD) and per-sample encrypted
  inference of a linear model; ``sigmoid``: a polynomial sigmoid and its depth.
- ``aggregation``: chunked encrypted sums of model updates and their size.
- ``precision``: the max absolute error against plaintext.

Use ``from ppml_helpers import he``, then e.g. ``ctx = he.CKKS_INFERENCE.context()``
and ``he.predict_batched(ctx, x, *he.linear_parameters(model))``.

References: Cheon, Kim, Kim, Song, "Homomorphic Encryption for Arithmetic of
Approximate Numbers" (CKKS, 2017); Albrecht et al., "Homomorphic Encryption
Security Standard" (2018); Benaissa et al., "TenSEAL: A Library for Encrypted
Tensor Operations Using Homomorphic Encryption" (2021).
"""

from .aggregation import (
    EncryptedUpdate,
    SizeReport,
    aggregate,
    decrypt_update,
    encrypt_update,
    size_report,
)
from .context import ContextInfo, KeySizes, bfv_context, ckks_context, context_info, key_sizes
from .inference import (
    EncryptedBatch,
    EncryptedScores,
    Prediction,
    decrypt_scores,
    encrypt_batch_features,
    encrypted_linear,
    encrypted_sigmoid,
    linear_parameters,
    plaintext_linear,
    predict_batched,
    predict_per_sample,
)
from .params import (
    BFV_DEFAULT,
    CKKS_AGGREGATION,
    CKKS_INFERENCE,
    CKKS_SIGMOID,
    MAX_COEFF_MODULUS_BITS,
    SEAL_REFUSAL,
    BFVParameters,
    CKKSParameters,
    InsecureParametersError,
    check_bfv_parameters,
    check_ckks_parameters,
)
from .precision import PrecisionReport, precision_report
from .security import ParameterReport, parameter_report, parameter_table, seal_parameter_check
from .sigmoid import (
    PolynomialApproximation,
    encrypted_polyval,
    levels_left,
    polyval_depth,
    sigmoid_approximation,
)

__all__ = [
    "BFV_DEFAULT",
    "CKKS_AGGREGATION",
    "CKKS_INFERENCE",
    "CKKS_SIGMOID",
    "MAX_COEFF_MODULUS_BITS",
    "SEAL_REFUSAL",
    "BFVParameters",
    "CKKSParameters",
    "ContextInfo",
    "EncryptedBatch",
    "EncryptedScores",
    "EncryptedUpdate",
    "InsecureParametersError",
    "KeySizes",
    "ParameterReport",
    "PolynomialApproximation",
    "PrecisionReport",
    "Prediction",
    "SizeReport",
    "aggregate",
    "bfv_context",
    "check_bfv_parameters",
    "check_ckks_parameters",
    "ckks_context",
    "context_info",
    "decrypt_scores",
    "decrypt_update",
    "encrypt_batch_features",
    "encrypt_update",
    "encrypted_linear",
    "encrypted_polyval",
    "encrypted_sigmoid",
    "key_sizes",
    "levels_left",
    "linear_parameters",
    "parameter_report",
    "parameter_table",
    "plaintext_linear",
    "polyval_depth",
    "precision_report",
    "predict_batched",
    "predict_per_sample",
    "seal_parameter_check",
    "sigmoid_approximation",
    "size_report",
]
