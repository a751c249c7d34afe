"""The layers are enforced, not described: the import-linter contract in pyproject.toml holds, docs/architecture.md
draws the same rows in the same order, and only cli/ talks to the console (click)."""

import ast
import re
import tomllib
from pathlib import Path

from importlinter.application.use_cases import lint_imports
from importlinter.configuration import configure

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "muse_fx"
LAYER_TABLE = r"^\| layer \| where \|.*\n\|[-|]+\|\n((?:\|.*\n)+)"  # its header, its rule, then its rows


def contract(contract_id: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(contract for contract in config["contracts"] if contract["id"] == contract_id)


def contract_rows() -> list[list[str]]:
    """Each layer of the contract, top down, as its names; a row's names must be independent (`|`)."""
    rows = contract("layers")["layers"]
    assert not any(":" in row for row in rows), "a row's names are independent siblings: join them with |"
    return [[name.strip() for name in row.split("|")] for row in rows]


def document_rows() -> list[list[str]]:
    """The `where` column of docs/architecture.md's layer table, each `cli/` or `files.py` as its module name."""
    table = re.search(LAYER_TABLE, (ROOT / "docs/architecture.md").read_text(), re.M)
    assert table, "docs/architecture.md has no `| layer | where | … |` table"
    wheres = [line.split("|")[2] for line in table.group(1).splitlines()]
    return [[re.sub(r"(/|\.py)$", "", name) for name in re.findall(r"`([^`]+)`", where)] for where in wheres]


def test_the_architecture_document_draws_the_contracts_layers_in_order():
    assert document_rows() == contract_rows()


def test_the_import_contracts_hold():
    """What `lint-imports` checks in .ci/run, here on the muse_fx these tests import."""
    configure()
    assert lint_imports(str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)


def test_no_module_below_cli_imports_click():
    below_cli = [path for path in PACKAGE.rglob("*.py") if "cli" not in path.relative_to(PACKAGE).parts[:1]]
    importers = []
    for path in below_cli:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name == "click" or name.startswith("click.") for name in names):
                importers.append(path.relative_to(ROOT))
    assert below_cli and importers == []
