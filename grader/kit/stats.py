"""Helpers for the checks of random functions (dropout, initializers, augmentation).

Two things every random check needs:

- **Seeded generators in the worker.** ``worker_rng(sub, "dropout", seed)`` returns a
  ``protocol.Generator``: the worker turns it into ``np.random.default_rng(seed)`` before the
  student's function sees it, so ``sub.dropout(x, p, rng=worker_rng(...))`` reads
  ``dropout(<array (20000,)>, 0.3, rng=np.random.default_rng(6))`` in a counterexample.
- **Sound statistical bounds.** Every statistical check accepts a correct solution except
  with a probability stated in its docstring; the bounds below are the rigorous ones used
  (no normal approximation), so the stated numbers are upper bounds.
"""

from __future__ import annotations

import math

import numpy as np

from grader.sandbox.protocol import Generator

# probability that one statistical test rejects a correct solution, per hypothesis example
ALPHA = 1e-8

def worker_rng(sub, function: str, seed: int) -> Generator:
    """Return ``np.random.default_rng(seed)`` as an argument for the student's ``function``."""
    return Generator(seed)


# --------------------------------------------------------------------------- bounds


def hoeffding(n: int, alpha: float = ALPHA) -> float:
    """Return t with P(|mean of n independent [0, 1] variables − its expectation| > t) ≤ alpha.

    Hoeffding: P(|X̄ − μ| ≥ t) ≤ 2·exp(−2·n·t²), so t = sqrt(ln(2/alpha) / (2n)).
    """
    return math.sqrt(math.log(2.0 / alpha) / (2.0 * n))


def dkw(n: int, alpha: float = ALPHA) -> float:
    """Return ε with P(sup_x |F_n(x) − F(x)| > ε) ≤ alpha for n i.i.d. samples of F.

    Dvoretzky–Kiefer–Wolfowitz with Massart's constant: P(sup |F_n − F| > ε) ≤ 2·exp(−2nε²).
    """
    return math.sqrt(math.log(2.0 / alpha) / (2.0 * n))


def chernoff_lower(mu: float, alpha: float = ALPHA) -> float:
    """Return c with P(X < c) ≤ alpha for X a sum of independent Bernoullis with mean mu.

    Multiplicative Chernoff bound: P(X ≤ (1 − δ)·μ) ≤ exp(−δ²·μ/2), so δ = sqrt(2·ln(1/alpha)/μ).
    """
    delta = math.sqrt(2.0 * math.log(1.0 / alpha) / mu)
    return (1.0 - delta) * mu


def normal_cdf(x, std: float) -> np.ndarray:
    """Φ(x / std), elementwise, with math.erf (the checks do not depend on scipy)."""
    erf = np.vectorize(math.erf, otypes=[float])
    return 0.5 * (1.0 + erf(np.asarray(x, float) / (std * math.sqrt(2.0))))


def uniform_cdf(x, limit: float) -> np.ndarray:
    """The CDF of U(−limit, limit)."""
    return np.clip((np.asarray(x, float) + limit) / (2.0 * limit), 0.0, 1.0)


def ks_on_grid(samples: np.ndarray, cdf_on_grid: np.ndarray, grid: np.ndarray) -> tuple[float, float]:
    """Return (max over the grid of |F_n(g) − F(g)|, the grid point where it is largest).

    F_n(g) = #{samples ≤ g}/n. The maximum over a grid is at most the Kolmogorov–Smirnov
    distance sup_x |F_n(x) − F(x)|, so ``dkw`` bounds the probability that a correct sampler
    exceeds ε here too (the test stays sound); a fine grid keeps nearly all of its power.
    """
    s = np.sort(np.asarray(samples, np.float64).ravel())
    fn = np.searchsorted(s, grid, side="right") / s.size
    diff = np.abs(fn - cdf_on_grid)
    i = int(np.argmax(diff))
    return float(diff[i]), float(grid[i])
