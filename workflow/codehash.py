"""What a rule's code *means*, as a short hash: a rule reruns when its code changes meaning.

:func:`code_hash` follows a job script's imports of this repository's packages
(``cnnlib``, ``workflow``, ``report``) to every module it can run, and hashes each
module's syntax tree with docstrings removed (comments are not in the tree). A changed
docstring, comment or blank line gives the same hash; a changed statement anywhere in the
import closure gives another one. Rules pass the hash as a ``param``, so Snakemake reruns
them when it changes (its "params" rerun trigger).
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGES = ("cnnlib", "workflow", "report")


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _parsed(path: Path) -> tuple[str, tuple[str, ...]]:
    """(hash of the docstring-free tree, imported module names) of one file."""
    text = path.read_text(encoding="utf-8")
    return _parse_text(str(path), text)


@lru_cache(maxsize=None)
def _parse_text(name: str, text: str) -> tuple[str, tuple[str, ...]]:
    tree = ast.parse(text, filename=name)
    imports = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imports.append(node.module)
            imports += [f"{node.module}.{a.name}" for a in node.names]
    digest = hashlib.sha256(ast.dump(_strip_docstrings(tree), include_attributes=False).encode()).hexdigest()
    return digest, tuple(imports)


def _module_files(name: str, repo: Path) -> list[Path]:
    """The files of module ``name`` in the repo: a package's ``__init__.py`` and its parents'."""
    parts = name.split(".")
    if parts[0] not in PACKAGES:
        return []
    out = []
    for i in range(1, len(parts) + 1):
        base = repo.joinpath(*parts[:i])
        if (base / "__init__.py").is_file():
            out.append(base / "__init__.py")
        elif base.with_suffix(".py").is_file():
            out.append(base.with_suffix(".py"))
            break
        else:
            break
    return out


def closure(scripts, repo) -> list[Path]:
    """Every repository file the given scripts can run, following imports."""
    repo = Path(repo).resolve()
    todo = [Path(s).resolve() for s in scripts]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _parsed(path)[1]:
            todo += [p.resolve() for p in _module_files(name, repo) if p.resolve() not in seen]
    return sorted(seen)


def code_hash(scripts, repo) -> str:
    """16 hex digits over the meaning of ``scripts`` and everything of this repo they import."""
    repo = Path(repo).resolve()
    h = hashlib.sha256()
    for path in closure(scripts, repo):
        rel = path.relative_to(repo).as_posix() if path.is_relative_to(repo) else path.name
        h.update(rel.encode() + b"\0" + _parsed(path)[0].encode() + b"\0")
    return h.hexdigest()[:16]
