"""Yao's millionaires' problem as a garbled circuit, with oblivious transfer simulated.

Teaching code, introduced in ``06_secure_aggregation``. Alice (the garbler)
has x, Bob (the evaluator) has y; they learn [x > y] and nothing else
(against honest-but-curious parties; a malicious garbler could garble a
different circuit, which cut-and-choose or authenticated garbling prevents).

1. Alice garbles :func:`~ppml_helpers.mpc.circuit.comparator_circuit` and
   sends Bob the tables, the output hashes and the labels of her own bits.
2. Bob gets the labels of his bits by oblivious transfer (OT), one 1-out-of-2
   OT per bit: he learns W^(y_i) and not W^(1 − y_i); Alice learns nothing
   about y_i. Here that step is :func:`simulated_ot`.
3. Bob evaluates gate by gate, decodes the output and tells Alice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._validate import check_int, check_rng
from .circuit import comparator_circuit, int_to_bits
from .garbled import (
    LABEL_BYTES,
    GarbledCircuit,
    WireLabels,
    decode_outputs,
    evaluate_garbled,
    garble,
)

__all__ = ["EvaluatorView", "GarblerView", "MillionairesResult", "millionaires", "simulated_ot"]


def simulated_ot(pairs: Sequence[WireLabels], choices: Sequence[int]) -> tuple[bytes, ...]:
    """Stand-in for one 1-out-of-2 oblivious transfer per choice bit: hands over only the chosen labels.

    Both parties run in one process here, so this function simply returns
    ``pairs[i].label(choices[i])``. What matters is what it does *not*
    return: the other label of each pair (the evaluator must never learn
    it) and the choice bits (the garbler must never learn them). A real OT
    enforces both with public-key cryptography. The textbook protocol of
    Chou & Orlandi (2015, "The Simplest Oblivious Transfer Protocol"), in a
    group of prime order with generator g and a hash H:

        sender:   picks a, sends A = g^a
        receiver: picks b; sends B = g^b if c = 0, B = A · g^b if c = 1
        sender:   k_0 = H(B^a), k_1 = H((B / A)^a); sends E_(k_0)(m_0), E_(k_1)(m_1)
        receiver: k_c = H(A^b) opens m_c; the other key would need
                  g^(ab) from A and B alone (computational Diffie–Hellman).

    B is a uniformly random group element either way, so the sender learns
    nothing about c. Practical systems run a few such base OTs and extend
    them to millions with symmetric crypto (OT extension, Ishai et al. 2003).

    Args:
        pairs: the garbler's labels of the evaluator's input wires.
        choices: the evaluator's bits, one per pair.

    Returns:
        One label per pair, the one standing for the chosen bit.

    Raises:
        ValueError: mismatched lengths or a choice that is not 0 or 1.
    """
    if len(pairs) != len(choices):
        raise ValueError(f"choices must have one bit per pair ({len(pairs)}). Got {len(choices)}.")
    for i, c in enumerate(choices):
        if isinstance(c, bool) or c not in (0, 1):
            raise ValueError(f"choices[{i}] must be 0 or 1. Got {c!r}.")
    return tuple(p.label(c) for p, c in zip(pairs, choices, strict=True))


@dataclass(frozen=True)
class GarblerView:
    """What Alice (garbler, holding x) sees: her input and the result Bob reports. Nothing of y."""

    input: int
    output: bool


@dataclass(frozen=True)
class EvaluatorView:
    """What Bob (evaluator, holding y) sees: tables, labels that look random, and the result.

    Bob never sees x: Alice's labels carry random colour bits and the
    output hashes reveal only the final bit.
    """

    input: int
    garbled_circuit: GarbledCircuit
    garbler_input_labels: tuple[bytes, ...]
    own_input_labels: tuple[bytes, ...]
    output_labels: tuple[bytes, ...]
    output: bool


@dataclass(frozen=True)
class MillionairesResult:
    """The outcome of :func:`millionaires` and what it cost.

    Attributes:
        x_greater: [x > y], the only thing either party learns.
        bits: the numbers' width k.
        free_xor: whether XOR gates were free.
        num_gates, num_and_gates, num_xor_gates, num_not_gates: circuit size.
        num_ciphertexts: garbled table rows sent.
        table_bytes: bytes of those rows.
        bytes_to_evaluator: tables + Alice's input labels + output hashes
            (the OT messages are not counted: OT is simulated here).
        num_ots: 1-out-of-2 OTs, one per bit of y.
        garbler_view, evaluator_view: what each party saw.
    """

    x_greater: bool
    bits: int
    free_xor: bool
    num_gates: int
    num_and_gates: int
    num_xor_gates: int
    num_not_gates: int
    num_ciphertexts: int
    table_bytes: int
    bytes_to_evaluator: int
    num_ots: int
    garbler_view: GarblerView
    evaluator_view: EvaluatorView


def millionaires(x: int, y: int, *, bits: int, rng, free_xor: bool = True) -> MillionairesResult:
    """Decide x > y with a garbled comparator: Alice garbles with x, Bob evaluates with y.

    Args:
        x: Alice's wealth, an integer in [0, 2^bits).
        y: Bob's wealth, an integer in [0, 2^bits).
        bits: the numbers' width, 1 to 1024.
        rng: a ``numpy.random.Generator`` or an int seed (teaching), or
            ``random.SystemRandom()`` (real use).
        free_xor: garble XOR gates for free (default); ``False`` shows the cost without it.

    Returns:
        A :class:`MillionairesResult`.

    Raises:
        ValueError: x or y outside [0, 2^bits), or bits outside [1, 1024].

    >>> r = millionaires(7, 5, bits=4, rng=0)
    >>> r.x_greater, r.num_and_gates, r.num_ciphertexts, r.table_bytes
    (True, 4, 16, 256)
    """
    bits = check_int(bits, "bits", low=1, high=1024)
    x_bits = int_to_bits(x, bits, "x")
    y_bits = int_to_bits(y, bits, "y")
    source = check_rng(rng)
    circuit = comparator_circuit(bits)

    # 1. Alice garbles and sends the tables, the output hashes and her input labels.
    garbled, secrets = garble(circuit, rng=source, free_xor=bool(free_xor))
    alice_labels = secrets.input_labels(circuit.garbler_inputs, x_bits)
    # 2. Bob obtains the labels of his bits by (simulated) oblivious transfer.
    bob_labels = simulated_ot([secrets.labels[w] for w in circuit.evaluator_inputs], y_bits)
    # 3. Bob evaluates, decodes with the output hashes, and reports the bit to Alice.
    out_labels = evaluate_garbled(garbled, alice_labels, bob_labels)
    (result,) = decode_outputs(garbled, out_labels)

    return MillionairesResult(
        x_greater=bool(result),
        bits=bits,
        free_xor=garbled.free_xor,
        num_gates=len(circuit.gates),
        num_and_gates=circuit.count("AND"),
        num_xor_gates=circuit.count("XOR"),
        num_not_gates=circuit.count("NOT"),
        num_ciphertexts=garbled.num_ciphertexts,
        table_bytes=garbled.table_bytes,
        bytes_to_evaluator=garbled.table_bytes + LABEL_BYTES * bits + garbled.decoding_bytes,
        num_ots=bits,
        garbler_view=GarblerView(input=int(x), output=bool(result)),
        evaluator_view=EvaluatorView(
            input=int(y),
            garbled_circuit=garbled,
            garbler_input_labels=alice_labels,
            own_input_labels=bob_labels,
            output_labels=out_labels,
            output=bool(result),
        ),
    )
