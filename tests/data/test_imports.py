"""grader/data's modules import one another without a circle (read from the source with ast).

A circle works only while every import that closes it stays inside a function; the next
tidy-up that moves one to the top of its module breaks ``import grader.data`` at once.
"""

import ast
from pathlib import Path

import grader.data

PACKAGE = "grader.data"


def imports_within(folder: Path, package: str = PACKAGE) -> dict[str, set[str]]:
    """{module: the modules of the same package it imports}, for every .py file in ``folder``.

    Imports inside functions count: they close a circle as surely, only later. ``from . import
    name`` or ``from grader.data import name`` where name is no module is an import of
    ``__init__``.
    """
    modules = {p.stem for p in folder.glob("*.py")}
    graph = {}
    for path in sorted(folder.glob("*.py")):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for target, names in _targets(node, package):
                if target:
                    found.add(target.split(".")[0])
                else:
                    found.update(name if name in modules else "__init__" for name in names)
        graph[path.stem] = found - {path.stem}
    return graph


def _targets(node, package: str):
    """(module relative to ``package``, "" for the package itself; names imported) for an import node."""
    if isinstance(node, ast.ImportFrom):
        names = [alias.name for alias in node.names]
        if node.level == 1:
            yield node.module or "", names
        elif node.level == 0 and node.module and (node.module + ".").startswith(package + "."):
            yield node.module[len(package) + 1:], names
    elif isinstance(node, ast.Import):
        for alias in node.names:
            if (alias.name + ".").startswith(package + "."):
                yield alias.name[len(package) + 1:] or "__init__", []


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports (its modules in order, the first again at the end), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once all below it is seen

    def visit(module, path):
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open":
                return path[path.index(imported):] + [imported]
            if imported not in state and (circle := visit(imported, path + [imported])):
                return circle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (circle := visit(module, [module])):
            return circle
    return None


def test_the_modules_of_grader_data_import_one_another_without_a_circle():
    graph = imports_within(Path(grader.data.__file__).parent)
    assert graph["download"], "the parse sees download.py's imports"
    assert find_circle(graph) is None, " -> ".join(find_circle(graph))


def test_an_import_inside_a_function_that_closes_a_circle_is_found(tmp_path):
    (tmp_path / "download.py").write_text("from .loaders import NAMES\n")
    (tmp_path / "loaders.py").write_text("def _find():\n    from .download import default_data_dir\n")
    assert find_circle(imports_within(tmp_path)) == ["download", "loaders", "download"]


def test_importing_the_package_itself_from_one_of_its_modules_is_a_circle(tmp_path):
    (tmp_path / "__init__.py").write_text("from .catalog import load\n")
    (tmp_path / "catalog.py").write_text("from grader.data import NAMES\n")
    assert find_circle(imports_within(tmp_path)) == ["__init__", "catalog", "__init__"]
