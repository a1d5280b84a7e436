"""Runs the generated Python validators over every vector and prints {vector id: sorted errors}.

vectors.test.ts compares this output with the TS validator's, vector by vector.

    python3 shared/test/python_vectors.py ROOT [ROOT ...]
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vector_files import load_generated, load_json, sort_errors, vector_files  # noqa: E402


def main(roots: list[str]) -> None:
    generated = load_generated()
    results = {}
    for root in roots:
        for vector_id, path in vector_files(Path(root)).items():
            contract = vector_id.split("/", 1)[0]
            results[vector_id] = sort_errors(generated.validate(contract, load_json(path)))
    # ensure_ascii (the default) keeps lone surrogates as \ud800 escapes, which JSON.parse accepts.
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:] or [str(Path(__file__).resolve().parents[1] / "vectors")])
