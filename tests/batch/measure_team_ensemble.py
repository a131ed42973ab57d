"""Measure the ensemble of a class's team models on the real LFW-8 faces, as ``grade batch`` makes it.

    python tests/batch/measure_team_ensemble.py [--data-dir ../shared/data] [--cnn-epochs 20]
                                                [--out docs/results/faces-team-ensemble.json]

Writes seven project teams (``write_teams``) and grades them with ``grade batch project``:

- ``finetuned``: the project's solution, MobileNetV2 fine-tuned (its committed weights);
- ``cnn-0``, ``cnn-1``: the reference CNN with dropout and batchnorm (``reference.faces.cnn``),
  trained here with seeds 0 and 1 for ``--cnn-epochs`` epochs (the ladder: 60), its code
  rewritten in plain torch as a team would;
- ``linear-0``, ``linear-1``: a softmax regression on the pixels (``tests/fakefaces.py``'s
  LINEAR_TEAM), 200 full-batch Adam steps with seeds 0 and 1;
- ``csv``: predictions of a third softmax regression (seed 2), as a predictions CSV;
- ``broken``: the softmax regression's code with the CNN's weights (they do not load).

Prints the final leaderboard, the ensemble of the five team models against each member and the
mean member (accuracy, balanced accuracy, macro-F1, NLL, ECE), who is left out, the batch's
wall time and the training's CPU time, and writes them to ``--out``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

CNN_TEAM = '''"""Team CNN: four conv-batchnorm-ReLU-pool blocks, dropout, two dense layers."""
import numpy as np
import torch
from torch import nn


def block(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]


def build_model():
    return nn.Sequential(*block(1, 16), *block(16, 32), *block(32, 64), *block(64, 64), nn.Flatten(),
                         nn.Dropout(0.5), nn.Linear(1024, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 8))


def preprocess(x):
    return torch.as_tensor(np.asarray(x, dtype=np.float32) / 255.0)
'''


def fakefaces():
    spec = importlib.util.spec_from_file_location("fakefaces", HERE.parent / "fakefaces.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def cnn_weights(seed: int, data_dir: Path, epochs: int) -> tuple[bytes, float]:
    """safetensors bytes of the reference CNN trained by the ladder's recipe with ``seed``, and the CPU seconds."""
    import torch
    from safetensors.torch import save

    from grader.reference.faces_ladder import Settings, cnn_member, load_faces

    torch.set_num_threads(2)
    train, val, test = load_faces(data_dir)
    started = time.process_time()
    _, model, _ = cnn_member(seed, train, val, test, Settings(seed=seed, cnn_epochs=epochs))
    return save({k: v.detach().contiguous() for k, v in model.state_dict().items()}), time.process_time() - started


def write_teams(folder: Path, data_dir: Path, *, cnn_epochs: int = 20) -> dict:
    """Write the seven teams into ``folder/<team>/``; returns what making them cost."""
    from grader.data import load_split

    faces = fakefaces()
    test = load_split("lfw8", "test", data_dir)
    cost = {}
    started = time.process_time()
    linear = {seed: faces.linear_weights(data_dir, "trained", seed, steps=200) for seed in (0, 1, 2)}
    cost["linear_cpu_seconds"] = round(time.process_time() - started, 1)
    cnn = {}
    for seed in (0, 1):
        cnn[seed], seconds = cnn_weights(seed, data_dir, cnn_epochs)
        cost[f"cnn_{seed}_cpu_seconds"] = round(seconds, 1)
    csv_guess = faces.linear_probabilities(linear[2], test.images).argmax(axis=1)              # (N,)
    solution = ROOT / "solutions" / "exercise14"
    teams = {
        "finetuned": {"project.py": solution.with_suffix(".py").read_bytes(),
                      "project.safetensors": solution.with_suffix(".safetensors").read_bytes()},
        **{f"cnn-{s}": {"project.py": CNN_TEAM, "project.safetensors": cnn[s]} for s in cnn},
        **{f"linear-{s}": {"project.py": faces.LINEAR_TEAM, "project.safetensors": linear[s]} for s in (0, 1)},
        "csv": {"project.py": "# Team CSV: predictions in project.csv\n",
                "project.csv": faces.predictions_csv(csv_guess, data_dir)},
        "broken": {"project.py": faces.LINEAR_TEAM, "project.safetensors": cnn[0]},
    }
    for team, files in teams.items():
        (folder / team).mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / team / name).write_bytes(data.encode() if isinstance(data, str) else data)
    return cost


def grade(folder: Path, out: Path, data_dir: Path):
    """``grade batch project folder`` (as the instructor, 2 workers); returns the report."""
    from grader.batch.run import run_batch
    from grader.sandbox.process import isolation

    unsafe = {} if isolation().real else {"allow_unsafe_sandbox": True}
    return run_batch("project", folder, out=out, workers=2, progress=False, data_dir=data_dir, similarity=False,
                     **unsafe)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--cnn-epochs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="team-ensemble-"))
    try:
        cost = write_teams(tmp / "teams", args.data_dir, cnn_epochs=args.cnn_epochs)
        started = time.monotonic()
        report = grade(tmp / "teams", tmp / "out", args.data_dir)
        wall = time.monotonic() - started
        folder = tmp / "out" / "exercise14"
        board = (folder / "leaderboard.md").read_text(encoding="utf-8")
        saved = json.loads((folder / "ensemble.json").read_text(encoding="utf-8"))
        print(board)
        print(f"graded {report.graded} teams in {wall:.0f} s wall (2 workers); making them: {cost} "
              f"(load average {os.getloadavg()[0]:.2f})")
        for note in report.notes:
            print("note:", note)
        if args.out is not None:
            result = {"data": "lfw8-gray.zip", "cnn_epochs": args.cnn_epochs, "teams": sorted(os.listdir(tmp / "teams")),
                      "batch_wall_seconds": round(wall, 1), "making_the_teams": cost, "ensemble": saved,
                      "final_board": _rows(report.gradebook)}
            args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"wrote {args.out}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _rows(book: Path) -> list[dict]:
    """The final board's rows from the gradebook's ``leaderboard`` table."""
    import sqlite3

    with sqlite3.connect(book) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(
            "SELECT rank, student, private_balanced_accuracy, private_accuracy, public_balanced_accuracy, "
            "public_accuracy, score, note FROM leaderboard WHERE board = 'private' ORDER BY position")]


if __name__ == "__main__":
    main()
