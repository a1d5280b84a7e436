"""Shared helpers of the Python vector tests: where things are, and how vectors are found and loaded.

Imported by python_vectors.py (run by vectors.test.ts) and test_generated_validators.py (unittest).
"""

import importlib.util
import json
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "shared" / "vectors"
SCHEMA_PACKAGE = REPO / "addon" / "workshop_iot" / "schema"


def load_generated() -> ModuleType:
    """The generated module, loaded by path: importing the addon package would need Odoo."""
    spec = importlib.util.spec_from_file_location(
        "workshop_iot_schema_generated", SCHEMA_PACKAGE / "generated.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def vector_files(root: Path) -> dict[str, Path]:
    """'<contract>/<valid|invalid>/<name>' -> file, for every vector under root."""
    found = {}
    for path in sorted(root.glob("*/*/*.json")):
        contract, kind = path.parent.parent.name, path.parent.name
        if kind in ("valid", "invalid") and not path.name.endswith(".expected.json"):
            found[f"{contract}/{kind}/{path.name[: -len('.json')]}"] = path
    return found


def load_json(path: Path) -> object:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def expected_errors(vector: Path) -> list[dict]:
    """The expected errors of an invalid vector ([] for a valid one)."""
    if vector.parent.name == "valid":
        return []
    return load_json(vector.with_name(vector.name[: -len(".json")] + ".expected.json"))


def sort_errors(errors: list[dict]) -> list[dict]:
    return sorted(errors, key=lambda e: (e["path"], e["message"]))
