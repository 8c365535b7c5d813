"""Garbled gates and circuits: wire labels, point-and-permute, SHA-256 encryption, free XOR.

Teaching code, introduced in ``06_secure_aggregation``; real systems use
fixed-key AES, half-gates (2 ciphertexts per AND) and a vetted library
(EMP-toolkit, MP-SPDZ). The garbler gives every wire two random 16-byte
labels, W^0 for "the wire is 0" and W^1 for "the wire is 1". The evaluator
only ever holds one label per wire, and a label alone says nothing about
the bit it stands for.

An AND gate with input wires a, b and output c is garbled as four rows,

    H(W_a^(v_a) ‖ W_b^(v_b) ‖ gate id) ⊕ W_c^(v_a ∧ v_b),   v_a, v_b ∈ {0, 1},

with H = SHA-256 truncated to 16 bytes. Point-and-permute: the last bit of
each label is its colour; the two labels of a wire have opposite, randomly
assigned colours, and the rows are stored in the order of the input
labels' colours. The evaluator, holding one label per input, opens exactly
the row its colours point at and learns one output label; the colours
carry no information about the values.

Free XOR (Kolesnikov & Schneider 2008), on by default in :func:`garble`:
every wire's labels differ by one secret offset Δ (W^1 = W^0 ⊕ Δ, with the
colour bit of Δ set), so an XOR gate's output label is just the XOR of its
input labels: no table, no hashing. NOT gates are free in both modes: the
garbler swaps the meaning of the two labels. With ``free_xor=False`` every
XOR gate gets a four-row table like an AND gate.

References: Yao (1986), "How to Generate and Exchange Secrets"; Beaver,
Micali & Rogaway (1990) for point-and-permute; Evans, Kolesnikov & Rosulek
(2018), "A Pragmatic Introduction to Secure Multi-Party Computation", ch. 3.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ._validate import check_int, check_rng, random_bytes
from .circuit import Circuit, Gate

__all__ = [
    "LABEL_BYTES",
    "DecodingError",
    "GarbledAnd",
    "GarbledCircuit",
    "GarblerSecrets",
    "WireLabels",
    "colour",
    "decode_outputs",
    "evaluate_garbled",
    "evaluate_gate",
    "garble",
    "garble_and",
]

LABEL_BYTES = 16
"""Wire labels (and table rows) are 128-bit strings."""


class DecodingError(ValueError):
    """A label matches neither label of its wire: wrong input labels or a tampered table."""


def colour(label: bytes) -> int:
    """The point-and-permute bit of a label (its last bit): which row to open, not the value."""
    return label[-1] & 1


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(LABEL_BYTES, "big")


def _pad(label_a: bytes, label_b: bytes, gate_id: int) -> bytes:
    # The gate id makes the pads of different gates independent even for equal label pairs.
    return hashlib.sha256(label_a + label_b + gate_id.to_bytes(8, "big")).digest()[:LABEL_BYTES]


def _output_hash(label: bytes, wire: int) -> bytes:
    return hashlib.sha256(b"output" + wire.to_bytes(8, "big") + label).digest()[:LABEL_BYTES]


def _check_label(label, name: str) -> bytes:
    if not isinstance(label, (bytes, bytearray)) or len(label) != LABEL_BYTES:
        raise ValueError(f"{name} must be a {LABEL_BYTES}-byte wire label. Got {label!r}.")
    return bytes(label)


@dataclass(frozen=True)
class WireLabels:
    """The garbler's two labels of one wire (``zero`` stands for 0, ``one`` for 1).

    Only the garbler holds both; handing both to the evaluator would reveal
    every gate's truth table.
    """

    zero: bytes
    one: bytes

    def label(self, bit: int) -> bytes:
        """The label standing for ``bit``."""
        if bit not in (0, 1):
            raise ValueError(f"bit must be 0 or 1. Got bit={bit!r}.")
        return self.one if bit else self.zero

    def decode(self, label: bytes) -> int:
        """The bit a label stands for (garbler's side).

        Raises:
            DecodingError: the label is neither of this wire's labels.
        """
        if label == self.zero:
            return 0
        if label == self.one:
            return 1
        raise DecodingError(
            "label matches neither label of this wire: the evaluator used labels that do not "
            "belong to this garbling (wrong input labels or a tampered table), so it decrypted garbage."
        )


def _fresh_labels(rng, delta: bytes | None) -> WireLabels:
    zero = random_bytes(rng, LABEL_BYTES)
    if delta is not None:
        return WireLabels(zero, _xor(zero, delta))
    one = bytearray(random_bytes(rng, LABEL_BYTES))
    one[-1] = (one[-1] & 0xFE) | (1 - colour(zero))  # opposite colours, still random per wire
    return WireLabels(zero, bytes(one))


def _garble_table(
    gate: Gate, a: WireLabels, b: WireLabels, out: WireLabels, gate_id: int
) -> tuple[bytes, ...]:
    rows: list[bytes] = [b""] * 4
    for va in (0, 1):
        for vb in (0, 1):
            la, lb = a.label(va), b.label(vb)
            rows[2 * colour(la) + colour(lb)] = _xor(
                _pad(la, lb, gate_id), out.label(gate.apply(va, vb))
            )
    return tuple(rows)


def evaluate_gate(
    table: Sequence[bytes], label_a: bytes, label_b: bytes, *, gate_id: int = 0
) -> bytes:
    """Open the one row the input labels' colours point at and return the output label.

    Args:
        table: the four 16-byte rows of a garbled two-input gate.
        label_a, label_b: the evaluator's labels of the two input wires.
        gate_id: the gate's id used when garbling (0 for :func:`garble_and`).

    Returns:
        A 16-byte label. With the right input labels it is the output label
        of the gate's value; with any other labels it is garbage, which the
        output decoding detects (:meth:`WireLabels.decode`, :func:`decode_outputs`).

    Raises:
        ValueError: a table that is not four 16-byte rows, or a malformed label.
    """
    if len(table) != 4:
        raise ValueError(f"table must have 4 rows. Got {len(table)}.")
    for i, row in enumerate(table):
        _check_label(row, f"table[{i}]")
    la, lb = _check_label(label_a, "label_a"), _check_label(label_b, "label_b")
    gate_id = check_int(gate_id, "gate_id", low=0, high=2**64 - 1)
    return _xor(table[2 * colour(la) + colour(lb)], _pad(la, lb, gate_id))


@dataclass(frozen=True)
class GarbledAnd:
    """A garbled AND gate: ``table`` is sent to the evaluator; the labels stay with the garbler."""

    table: tuple[bytes, ...]
    a: WireLabels
    b: WireLabels
    out: WireLabels
    gate_id: int = 0


def garble_and(*, rng, gate_id: int = 0) -> GarbledAnd:
    """Garble one AND gate with fresh labels (no free XOR: the three wires are independent).

    Args:
        rng: a ``numpy.random.Generator`` or an int seed (teaching), or
            ``random.SystemRandom()`` (real use: predictable labels let the
            evaluator compute the labels it was not given).
        gate_id: mixed into the hash so distinct gates get distinct pads.

    >>> g = garble_and(rng=0)
    >>> [g.out.decode(evaluate_gate(g.table, g.a.label(a), g.b.label(b))) for a in (0, 1) for b in (0, 1)]
    [0, 0, 0, 1]
    """
    source = check_rng(rng)
    gate_id = check_int(gate_id, "gate_id", low=0, high=2**64 - 1)
    a, b, out = (_fresh_labels(source, None) for _ in range(3))
    return GarbledAnd(_garble_table(Gate("AND", (0, 1), 2), a, b, out, gate_id), a, b, out, gate_id)


@dataclass(frozen=True)
class GarbledCircuit:
    """What the garbler sends the evaluator (besides input labels).

    Attributes:
        circuit: the public circuit.
        tables: one entry per gate: its four rows, or ``None`` for a free gate.
        output_hashes: per output wire, (H(W^0), H(W^1)): the evaluator
            learns the output bit by hashing its label, and a label matching
            neither is detected as garbage.
        free_xor: whether XOR gates were garbled for free.
    """

    circuit: Circuit
    tables: tuple[tuple[bytes, ...] | None, ...]
    output_hashes: tuple[tuple[bytes, bytes], ...]
    free_xor: bool

    @property
    def num_ciphertexts(self) -> int:
        """Table rows sent (4 per AND gate, plus 4 per XOR gate without free XOR)."""
        return sum(len(t) for t in self.tables if t is not None)

    @property
    def table_bytes(self) -> int:
        """Bytes of the garbled tables."""
        return self.num_ciphertexts * LABEL_BYTES

    @property
    def decoding_bytes(self) -> int:
        """Bytes of the output decoding information."""
        return 2 * LABEL_BYTES * len(self.output_hashes)


@dataclass(frozen=True)
class GarblerSecrets:
    """The garbler's private state: both labels of every wire (and Δ with free XOR)."""

    labels: tuple[WireLabels, ...]
    delta: bytes | None

    def input_labels(self, wires: Sequence[int], bits: Sequence[int]) -> tuple[bytes, ...]:
        """The labels of ``bits`` on ``wires``: what the garbler sends for its own input."""
        if len(wires) != len(bits):
            raise ValueError(f"bits must have one bit per wire ({len(wires)}). Got {len(bits)}.")
        return tuple(self.labels[w].label(b) for w, b in zip(wires, bits, strict=True))


def garble(
    circuit: Circuit, *, rng, free_xor: bool = True
) -> tuple[GarbledCircuit, GarblerSecrets]:
    """Garble a circuit: fresh labels for its inputs, then each gate in order.

    Args:
        circuit: a :class:`~ppml_helpers.mpc.circuit.Circuit`.
        rng: as for :func:`garble_and`.
        free_xor: garble XOR gates for free with a global offset Δ (default).

    Returns:
        ``(garbled, secrets)``: what is sent, and what the garbler keeps.
    """
    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be a Circuit. Got {type(circuit).__name__}.")
    source = check_rng(rng)
    delta = None
    if free_xor:
        d = bytearray(random_bytes(source, LABEL_BYTES))
        d[-1] |= 1  # Δ's colour bit is 1, so W^0 and W^0 ⊕ Δ have opposite colours
        delta = bytes(d)
    labels: dict[int, WireLabels] = {
        w: _fresh_labels(source, delta)
        for w in (*circuit.garbler_inputs, *circuit.evaluator_inputs)
    }
    tables: list[tuple[bytes, ...] | None] = []
    for gate_id, gate in enumerate(circuit.gates):
        ins = [labels[w] for w in gate.inputs]
        if gate.kind == "NOT":
            labels[gate.output] = WireLabels(ins[0].one, ins[0].zero)
            tables.append(None)
        elif gate.kind == "XOR" and delta is not None:
            zero = _xor(ins[0].zero, ins[1].zero)
            labels[gate.output] = WireLabels(zero, _xor(zero, delta))
            tables.append(None)
        else:
            labels[gate.output] = _fresh_labels(source, delta)
            tables.append(_garble_table(gate, ins[0], ins[1], labels[gate.output], gate_id))
    output_hashes = tuple(
        (_output_hash(labels[w].zero, w), _output_hash(labels[w].one, w)) for w in circuit.outputs
    )
    garbled = GarbledCircuit(circuit, tuple(tables), output_hashes, free_xor)
    secrets = GarblerSecrets(tuple(labels[w] for w in range(circuit.num_wires)), delta)
    return garbled, secrets


def evaluate_garbled(
    garbled: GarbledCircuit, garbler_labels: Sequence[bytes], evaluator_labels: Sequence[bytes]
) -> tuple[bytes, ...]:
    """Evaluate gate by gate on labels only; returns one label per output wire.

    Raises:
        ValueError: the wrong number of input labels, or a malformed label.
    """
    circuit = garbled.circuit
    held: dict[int, bytes] = {}
    for name, given, wires in (
        ("garbler_labels", garbler_labels, circuit.garbler_inputs),
        ("evaluator_labels", evaluator_labels, circuit.evaluator_inputs),
    ):
        if len(given) != len(wires):
            raise ValueError(
                f"{name} must hold one label per input wire ({len(wires)}). Got {len(given)}."
            )
        held.update(
            (w, _check_label(lab, f"{name}[{i}]"))
            for i, (w, lab) in enumerate(zip(wires, given, strict=True))
        )
    for gate_id, (gate, table) in enumerate(zip(circuit.gates, garbled.tables, strict=True)):
        ins = [held[w] for w in gate.inputs]
        if gate.kind == "NOT":
            held[gate.output] = ins[0]  # the garbler swapped the labels' meaning
        elif table is None:
            held[gate.output] = _xor(ins[0], ins[1])  # free XOR
        else:
            held[gate.output] = evaluate_gate(table, ins[0], ins[1], gate_id=gate_id)
    return tuple(held[w] for w in circuit.outputs)


def decode_outputs(garbled: GarbledCircuit, output_labels: Sequence[bytes]) -> tuple[int, ...]:
    """Turn output labels into bits with the garbler's output hashes.

    Raises:
        DecodingError: a label matches neither hash of its wire (garbage).
    """
    if len(output_labels) != len(garbled.output_hashes):
        raise ValueError(
            f"output_labels must hold {len(garbled.output_hashes)} labels. Got {len(output_labels)}."
        )
    bits = []
    for wire, label, (h0, h1) in zip(
        garbled.circuit.outputs, output_labels, garbled.output_hashes, strict=True
    ):
        h = _output_hash(_check_label(label, "output label"), wire)
        if h not in (h0, h1):
            raise DecodingError(
                f"the label of output wire {wire} matches neither of its two labels: the "
                "evaluator used labels that do not belong to this garbling, so it decrypted garbage."
            )
        bits.append(int(h == h1))
    return tuple(bits)
