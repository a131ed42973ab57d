"""The registry reads an exercise's declarations from its checks module without importing it."""

import subprocess
import sys

from grader import registry


def test_declarations_are_known_before_the_checks_module_is_imported():
    code = ("import sys\nfrom grader import registry\n"
            "infos = {i.id: i for i in registry.all_exercises()}\n"
            "print(sorted(m for m in sys.modules if m.startswith('grader.checks.')))\n"
            "print(infos['exercise11'].datasets, dict(infos['exercise11'].limits), infos['exercise11'].preload)\n"
            "print(infos['exercise03'].forbidden)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "[]"  # nothing imported: `grade list` stays fast, the worker starts with the right limits
    assert out[1] == "('cifar10',) {'call_timeout': 30.0} ('torch', 'safetensors.torch')"
    assert out[2] == "('cv2', 'jax', 'scipy', 'skimage', 'tensorflow', 'torch')"


def test_every_exercise_has_its_points_and_title_without_being_imported():
    infos = registry.all_exercises()
    assert [i.id for i in infos] == [f"exercise{n:02d}" for n in range(1, 15)]  # exercise14: the project
    assert all(i.points > 0 and i.title for i in infos)
    assert registry.find_exercise("cifar").id == "exercise11"
