"""Data contracts shared by the whole project: marketplaces, usage plans and limits, Amazon's models,
product-type schemas, templates, policy rules and the pandera row models.

Only data and declarative models live here. Code that reads a file asks this module for its path so that
every consumer reads the one copy.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS_DIR = Path(__file__).resolve().parent
SPAPI_REFERENCE_DIR = SCHEMAS_DIR / "spapi" / "reference"


def path(relative: str) -> Path:
    """Absolute path of a data file under `schemas/`."""
    return SCHEMAS_DIR / relative


@cache
def load_json(relative: str) -> Any:
    """Parse a JSON data file under `schemas/` once per process. Callers must not mutate the result."""
    return json.loads(path(relative).read_text(encoding="utf-8"))
