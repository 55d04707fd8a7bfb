"""The engine runs on requirements.txt alone: nothing in character_engine imports a package that
only the benchmark (requirements-bench.txt) or the tests (requirements-dev.txt) install."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1]
# Distribution name -> the module it provides, where they differ.
MODULE_OF = {"pyyaml": "yaml", "scikit-learn": "sklearn", "huggingface_hub": "huggingface_hub"}


def _modules(requirements: str) -> set[str]:
    names = set()
    for line in (ENGINE / requirements).read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==", line.strip())
        if m:
            name = m.group(1).lower()
            names.add(MODULE_OF.get(name, name.replace("-", "_")))
    return names


def _imported_top_levels() -> set[str]:
    found = set()
    for path in (ENGINE / "character_engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_the_shipped_engine_imports_no_bench_or_test_package() -> None:
    extra = (_modules("requirements-bench.txt") | _modules("requirements-dev.txt")) - _modules(
        "requirements.txt"
    )
    assert {"trl", "datasets", "openai", "pytest", "ruff", "tensorboard"} <= extra
    assert _imported_top_levels() & extra == set()
