"""What can be learnt from a submission's source without running it.

- stubs: functions whose body is still ``raise NotImplementedError``, ``...`` or ``pass``
  (reported as "not implemented yet", never as a wrong answer);
- rule violations: a function that an exercise's rule forbids to use a library (exercise03's
  ``conv2d`` is "by hand") and that names that library in its body. The worker watches the
  calls at run time too; this catches the paths the checks' inputs never reach.
"""

from __future__ import annotations

import ast


def _body_without_docstring(node: ast.FunctionDef) -> list[ast.stmt]:
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return body


def _is_stub_statement(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
        return True
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _top_level_defs(tree: ast.Module) -> dict[str, ast.AST]:
    """Return the last top-level definition of each name (later cells override earlier ones)."""
    defs: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs[node.name] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    defs[t.id] = node
    return defs


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # MemoryError: nested too deeply
        return None


def stubs(source: str) -> set[str]:
    """Return the names of top-level functions that are still unimplemented stubs."""
    tree = _parse(source)
    if tree is None:
        return set()
    out = set()
    for name, node in _top_level_defs(tree).items():
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = _body_without_docstring(node)
            if not body or all(_is_stub_statement(s) for s in body):
                out.add(name)
    return out


def _module_aliases(tree: ast.Module, forbidden: tuple[str, ...]) -> dict[str, str]:
    """Return {local name: module path} for every import of a forbidden module anywhere."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in forbidden:
                    aliases[(a.asname or a.name).split(".")[0]] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in forbidden:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def rule_violations(source: str, function: str, forbidden: tuple[str, ...]) -> list[str]:
    """Return what ``function``'s own code uses of the ``forbidden`` modules (empty: none)."""
    tree = _parse(source)
    if tree is None:
        return []
    node = _top_level_defs(tree).get(function)
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    aliases = _module_aliases(tree, forbidden)
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in aliases:
            found.append(f"uses {aliases[sub.id]}" + (f" (as {sub.id})" if sub.id != aliases[sub.id] else ""))
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in sub.names] if isinstance(sub, ast.Import) else [sub.module or ""]
            found += [f"imports {m}" for m in mods if m.split(".")[0] in forbidden]
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) \
                and sub.value.split(".")[0] in forbidden and isinstance(getattr(sub, "parent", None), ast.Call):
            found.append(f"imports {sub.value} dynamically")
        elif isinstance(sub, ast.Call):
            for arg in sub.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.split(".")[0] in forbidden:
                    f = sub.func
                    fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                    if fname in ("__import__", "import_module"):
                        found.append(f"imports {arg.value} dynamically")
    return list(dict.fromkeys(found))
