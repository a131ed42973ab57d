"""A normal wheel install works outside a checkout: `grade start`, then `grade` on the file."""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_installs_and_grades_outside_a_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = wheels.glob("*.whl")
    env_dir = tmp_path / "venv"  # under /tmp: the sandbox must still see this interpreter
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    student = tmp_path / "student"
    student.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    grade = [str(env_dir / "bin" / "grade")]
    subprocess.run(grade + ["start", "exercise03"], cwd=student, check=True, capture_output=True, env=env)
    assert (student / "exercise03.py").read_text() == (ROOT / "exercises" / "exercise03.py").read_text()
    zero = subprocess.run(grade + ["exercise03", "--format", "json"], cwd=student, capture_output=True, env=env)
    assert zero.returncode == 1 and json.loads(zero.stdout)["score"] == 0
    (student / "exercise03.py").write_text((ROOT / "solutions" / "exercise03.py").read_text())
    full = subprocess.run([str(python), "-m", "grader", "exercise03", "--format", "json"], cwd=student,
                          capture_output=True, env=env)
    assert full.returncode == 0, full.stderr.decode()
    data = json.loads(full.stdout)
    assert data["score"] == data["extra_data"]["max_score"] == 17
