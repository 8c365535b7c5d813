"""Boolean circuits of AND, XOR and NOT gates, and the comparator for Yao's millionaires.

Teaching code, introduced in ``06_secure_aggregation``. A circuit is public:
both parties know its wires and gates; only the values on the wires are
secret. Wires are numbered; the garbler's input bits come first, then the
evaluator's, then one wire per gate output. Numbers enter least significant
bit first.

The comparator computes [x > y] with one AND gate per bit (Kolesnikov,
Sadeghi & Schneider 2009), scanning from the least significant bit with a
carry c that holds [x > y] on the bits seen so far:

    c_(i+1) = x_i ⊕ ((x_i ⊕ c_i) ∧ (y_i ⊕ c_i)),   c_0 = 0.

If x_i = y_i the AND equals x_i ⊕ c_i and c is kept; if they differ one
AND input is c_i and the other its negation, the AND is 0 and c becomes x_i.
For bit 0 (c_0 = 0) this is x_0 ∧ ¬y_0. Total for k bits: k AND gates,
3(k − 1) XOR gates and one NOT gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._validate import check_int

__all__ = ["GATE_KINDS", "Circuit", "Gate", "comparator_circuit", "int_to_bits"]

GATE_KINDS = ("AND", "XOR", "NOT")


@dataclass(frozen=True)
class Gate:
    """One gate: ``kind`` in AND, XOR (two inputs) or NOT (one), writing wire ``output``."""

    kind: str
    inputs: tuple[int, ...]
    output: int

    def __post_init__(self):
        if self.kind not in GATE_KINDS:
            raise ValueError(f"kind must be one of {GATE_KINDS}. Got kind={self.kind!r}.")
        arity = 1 if self.kind == "NOT" else 2
        if len(self.inputs) != arity:
            raise ValueError(
                f"a {self.kind} gate takes {arity} input(s). Got inputs={self.inputs!r}."
            )

    def apply(self, *bits: int) -> int:
        """The gate's truth table on plain bits."""
        if self.kind == "NOT":
            return 1 - bits[0]
        a, b = bits
        return a & b if self.kind == "AND" else a ^ b


@dataclass(frozen=True)
class Circuit:
    """A boolean circuit: input wires of each party, gates in evaluation order, output wires."""

    num_wires: int
    garbler_inputs: tuple[int, ...]
    evaluator_inputs: tuple[int, ...]
    gates: tuple[Gate, ...]
    outputs: tuple[int, ...]

    def __post_init__(self):
        defined = [*self.garbler_inputs, *self.evaluator_inputs]
        if len(set(defined)) != len(defined):
            raise ValueError(f"input wires must be distinct. Got {defined}.")
        known = set(defined)
        for i, gate in enumerate(self.gates):
            missing = [w for w in gate.inputs if w not in known]
            if missing:
                raise ValueError(f"gates[{i}] reads wire(s) {missing} before any gate writes them.")
            if gate.output in known:
                raise ValueError(
                    f"gates[{i}] writes wire {gate.output}, which already has a value."
                )
            known.add(gate.output)
        if known != set(range(self.num_wires)):
            raise ValueError(
                f"num_wires={self.num_wires} but the inputs and gates define wires {sorted(known)}; "
                "wires must be numbered 0 .. num_wires − 1."
            )
        undefined = [w for w in self.outputs if w not in known]
        if not self.outputs or undefined:
            raise ValueError(f"outputs must be defined wires. Got outputs={self.outputs}.")

    def count(self, kind: str) -> int:
        """Number of gates of one kind."""
        return sum(g.kind == kind for g in self.gates)

    def evaluate(
        self, garbler_bits: Sequence[int], evaluator_bits: Sequence[int]
    ) -> tuple[int, ...]:
        """Evaluate in the clear (the reference the garbled evaluation must match)."""
        for name, bits, wires in (
            ("garbler_bits", garbler_bits, self.garbler_inputs),
            ("evaluator_bits", evaluator_bits, self.evaluator_inputs),
        ):
            if len(bits) != len(wires) or any(b not in (0, 1) for b in bits):
                raise ValueError(f"{name} must be {len(wires)} bits (0 or 1). Got {list(bits)!r}.")
        values: dict[int, int] = dict(zip(self.garbler_inputs, garbler_bits, strict=True))
        values.update(zip(self.evaluator_inputs, evaluator_bits, strict=True))
        for gate in self.gates:
            values[gate.output] = gate.apply(*(values[w] for w in gate.inputs))
        return tuple(values[w] for w in self.outputs)


def int_to_bits(value: int, bits: int, name: str = "value") -> tuple[int, ...]:
    """The ``bits`` binary digits of ``value``, least significant first.

    >>> int_to_bits(6, 4)
    (0, 1, 1, 0)
    """
    bits = check_int(bits, "bits", low=1)
    value = check_int(value, name, low=0, high=2**bits - 1)
    return tuple((value >> i) & 1 for i in range(bits))


def comparator_circuit(bits: int) -> Circuit:
    """The circuit for [x > y] on two ``bits``-bit numbers (x from the garbler, y the evaluator).

    >>> c = comparator_circuit(4)
    >>> c.evaluate(int_to_bits(9, 4), int_to_bits(7, 4)), c.evaluate(int_to_bits(7, 4), int_to_bits(7, 4))
    ((1,), (0,))
    >>> c.count("AND"), c.count("XOR"), c.count("NOT")
    (4, 9, 1)
    """
    bits = check_int(bits, "bits", low=1, high=1024)
    xs = tuple(range(bits))
    ys = tuple(range(bits, 2 * bits))
    gates: list[Gate] = []
    next_wire = 2 * bits

    def add(kind: str, *inputs: int) -> int:
        nonlocal next_wire
        gates.append(Gate(kind, inputs, next_wire))
        next_wire += 1
        return next_wire - 1

    carry = add("AND", xs[0], add("NOT", ys[0]))
    for i in range(1, bits):
        both = add("AND", add("XOR", xs[i], carry), add("XOR", ys[i], carry))
        carry = add("XOR", xs[i], both)
    return Circuit(next_wire, xs, ys, tuple(gates), (carry,))
