"""Linear compartment systems: dx/dt = A x + inputs, batched over subjects.

``A`` has shape ``(n_subjects, n_compartments, n_compartments)`` in 1/h; amounts are mg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._typing import FloatArray


@dataclass(frozen=True)
class InputEvent:
    """Drug entering one compartment: a bolus (``duration_h == 0``) or zero-order input."""

    time_h: float
    duration_h: float
    compartment: int
    amount_mg: FloatArray  # (n_subjects,)


@dataclass(frozen=True)
class LinearSystem:
    """A batch of linear compartment systems sharing one structure."""

    compartments: tuple[str, ...]
    rate_matrix: FloatArray  # (n_subjects, n, n), 1/h
    observed: dict[str, tuple[int, FloatArray]]  # analyte -> (compartment, volume_L (n_subjects,))

    @property
    def n_subjects(self) -> int:
        """Number of subjects in the batch."""
        return int(self.rate_matrix.shape[0])

    def index(self, name: str) -> int:
        """Index of compartment ``name``."""
        return self.compartments.index(name)


class CompartmentGraph:
    """Build a batched rate matrix from named flows (first-order, per subject)."""

    def __init__(self, names: list[str], n_subjects: int) -> None:
        self.names = list(names)
        self.matrix = np.zeros((n_subjects, len(names), len(names)))

    def _i(self, name: str) -> int:
        return self.names.index(name)

    def flow(self, source: str, target: str, rate_per_h: FloatArray) -> None:
        """First-order transfer ``source -> target`` at ``rate_per_h`` (shape ``(n_subjects,)``)."""
        i, j = self._i(source), self._i(target)
        self.matrix[:, i, i] -= rate_per_h
        self.matrix[:, j, i] += rate_per_h

    def exchange(self, a: str, b: str, clearance_l_h: FloatArray, volume_a: FloatArray, volume_b: FloatArray) -> None:
        """Two-way distribution between ``a`` and ``b`` with inter-compartmental clearance."""
        self.flow(a, b, clearance_l_h / volume_a)
        self.flow(b, a, clearance_l_h / volume_b)

    def loss(self, source: str, rate_per_h: FloatArray) -> None:
        """First-order elimination from ``source`` out of the system."""
        i = self._i(source)
        self.matrix[:, i, i] -= rate_per_h

    def build(self, observed: dict[str, tuple[str, FloatArray]]) -> LinearSystem:
        """The finished :class:`LinearSystem` with ``analyte -> (compartment, volume)``."""
        return LinearSystem(
            compartments=tuple(self.names),
            rate_matrix=self.matrix,
            observed={a: (self._i(c), v) for a, (c, v) in observed.items()},
        )
