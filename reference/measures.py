"""How a classifier of the faces project is measured, in numpy only (the grader imports it without torch).

Balanced accuracy is the mean recall over the people present: with 530 images of one person
and 60 of another, plain accuracy rewards guessing the first. ``nll`` and ``ece`` judge how
well the predicted probabilities are calibrated, and ``ensemble`` judges a deep ensemble (the
average of its members' probabilities) against its members — the reference's k CNNs in
``grade reference faces`` and the teams' submitted models in ``grade batch``.
"""

from __future__ import annotations

import numpy as np

N_CLASSES = 8


def confusion(labels: np.ndarray, predicted: np.ndarray, k: int = N_CLASSES) -> np.ndarray:
    """(k, k) counts, rows the true person, columns the predicted one."""
    return np.bincount(np.asarray(labels) * k + np.asarray(predicted), minlength=k * k).reshape(k, k)


def scores(labels: np.ndarray, predicted: np.ndarray, k: int = N_CLASSES) -> dict:
    """Accuracy, balanced accuracy (mean recall over the people present) and macro-F1."""
    c = confusion(labels, predicted, k)
    support, called = c.sum(axis=1), c.sum(axis=0)                                # (k,), (k,)
    recall = np.diag(c) / np.maximum(support, 1)
    precision = np.diag(c) / np.maximum(called, 1)
    f1 = np.where(recall + precision > 0, 2 * recall * precision / np.maximum(recall + precision, 1e-12), 0.0)
    present = support > 0
    return {"accuracy": float(np.trace(c) / max(c.sum(), 1)),
            "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
            "macro_f1": float(f1[present].mean()) if present.any() else 0.0}


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the true classes (probabilities clipped at 1e-12)."""
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0))))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the top class's confidence against its accuracy, in ``bins``
    equal-width confidence bins, weighted by how many predictions fall in each."""
    confidence, predicted = probs.max(axis=1), probs.argmax(axis=1)               # (N,), (N,)
    correct = predicted == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)                 # (N,) bin of each prediction
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(gap)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities (float64) from a model's logits (N, k), row by row, without overflow."""
    z = np.asarray(logits, dtype=np.float64)                                      # (N, k)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def ensemble(member_probs: list[np.ndarray], labels: np.ndarray) -> dict:
    """Each member's and the ensemble's accuracy, balanced accuracy, macro-F1, NLL and ECE, and
    their mean over the members: the ensemble averages the members' predicted probabilities
    (deep ensembles, Lakshminarayanan et al. 2017). Its NLL is never above the mean member's
    (-log of a mean ≤ the mean of -log); accuracy and calibration can go either way."""
    assert member_probs, "an ensemble needs at least one member"

    def judge(p):
        return {**scores(labels, p.argmax(axis=1)), "nll": nll(p, labels), "ece": ece(p, labels)}

    members = [judge(p) for p in member_probs]
    mean_member = {key: float(np.mean([m[key] for m in members])) for key in members[0]}
    return {"k": len(member_probs), "members": members, "mean_member": mean_member,
            "ensemble": judge(np.mean(member_probs, axis=0))}
