"""The codebase's own rules that no linter checks: short functions, no build machine's paths in the package."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "muse_fx"
MAX_FUNCTION_LINES = 60


def test_functions_stay_short():
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split these functions:\n" + "\n".join(long)


def test_no_machine_path_in_the_package():
    suffixes = {".py", ".toml", ".lua", ".md", ".js", ".html"}
    found = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*")
        if path.suffix in suffixes and any(root in path.read_text(encoding="utf-8") for root in ("/work/", "/root/"))
    ]
    assert not found, f"machine paths in {found}; make them relative to --data, a setting or the package"
