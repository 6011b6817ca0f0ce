"""The code's shape, checked: no function in src/digitlab over 60 lines; the CLI holds no plotting, no run-folder
writes and no metric computation (it parses, calls the API and renders)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "digitlab"
LIMIT = 60


def test_no_function_is_longer_than_sixty_lines():
    long = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > LIMIT:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []


def test_the_command_line_only_parses_calls_and_renders():
    for path in (SRC / "cli").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("plots.", "new_run", "metrics."):
            assert word not in text, f"{path.name} uses {word}"
