"""Common-subexpression elimination by hand for wide, eager Polars selects.

The template plan's column definitions and the compiled schema checks repeat the same sub-expressions many times
(the same source column stripped once per leaf that reads it, an instance's presence ANDed into every check below
it). Eager `DataFrame.select` evaluates every copy, and converting the large expression trees costs more than the
evaluation itself on a 10k-row group; a lazy query with Polars' own CSE costs ~1 s of planning for these queries.

`stage` finds the sub-expressions shared by a list of (aliased) expressions through their JSON serialization and
moves each into a helper column, computed once, in dependency order (`stages`); the final expressions read those
columns. The rewrite is syntactic and exact: an extracted subtree is evaluated as a column over the same rows, which
is the same for the element-wise expressions these plans are built from. Subtrees holding a dynamically typed
literal (whose dtype follows the surrounding expression) and direct inputs of struct constructors (whose field
names come from the input's name) are never extracted.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import polars as pl

_NOT_EXTRACTED = frozenset({"Column", "Literal", "Alias", "Len", "Agg", "Window", "Nth", "Selector", "Field"})
# Names (object keys or string values in the serialization) that make a subtree unsafe to move into a column.
_UNSAFE = frozenset({"Dyn", "Agg", "Window", "Len", "Explode", "Filter", "Slice", "Gather", "Over", "Implode",
                     "Unique"})
_UNSAFE_PREFIXES = ("Sort", "Rolling", "Cum")


@dataclass
class Staged:
    """Helper columns to add, stage by stage, then the final expressions (their names as given)."""

    stages: list[list[pl.Expr]]
    finals: list[pl.Expr]
    helpers: list[str]

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` with the final expressions added as columns (helper columns dropped)."""
        work = frame
        for stage in self.stages:
            work = work.with_columns(stage)
        work = work.with_columns(self.finals)
        return work.drop(self.helpers) if self.helpers else work


class _Facts:
    """Per-node canonical text, "reads a column" and "unsafe", computed bottom-up once (the trees are large and
    deeply nested: re-serializing every subtree would be quadratic)."""

    def __init__(self) -> None:
        self.memo: dict[int, tuple[str, bool, bool]] = {}
        self.interned: dict[str, dict] = {}
        self.alive: list[dict] = []

    def load(self, text: str) -> Any:
        """Parse a serialized expression; equal subtrees become one object (serialization expands Polars'
        shared sub-expressions into copies), so their facts are computed once."""
        return json.loads(text, object_hook=self.intern)

    def intern(self, node: dict) -> dict:
        self.alive.append(node)  # facts are memoized by id: no parsed node may be freed while staging runs
        text = self.of(node)[0]
        found = self.interned.get(text)
        if found is None:
            self.interned[text] = found = node
        return found

    def of(self, node: Any) -> tuple[str, bool, bool]:
        found = self.memo.get(id(node))
        if found is not None:
            return found
        if isinstance(node, dict):
            parts, column, unsafe = [], "Column" in node, False
            for key in sorted(node):
                text, c, u = self.of(node[key])
                parts.append(json.dumps(key) + ":" + text)
                column = column or c
                unsafe = unsafe or u or _unsafe_name(key)
            found = ("{" + ",".join(parts) + "}", column, unsafe)
        elif isinstance(node, list):
            facts = [self.of(v) for v in node]
            found = ("[" + ",".join(f[0] for f in facts) + "]", any(f[1] for f in facts), any(f[2] for f in facts))
        else:
            found = (json.dumps(node), False, isinstance(node, str) and _unsafe_name(node))
        self.memo[id(node)] = found
        return found


def _unsafe_name(name: str) -> bool:
    return name in _UNSAFE or name.startswith(_UNSAFE_PREFIXES)


def _is_struct_builder(node: dict) -> bool:
    function = node.get("Function")
    return isinstance(function, dict) and "Struct" in json.dumps(function.get("function"))


def stage(exprs: list[pl.Expr], prefix: str) -> Staged:
    """`exprs` (each aliased to a distinct name) with shared sub-expressions computed once. Falls back to the
    expressions as given when one cannot be serialized."""
    try:
        facts = _Facts()
        trees = [facts.load(e.meta.serialize(format="json")) for e in exprs]
    except Exception:  # noqa: BLE001 - an expression Polars cannot serialize: no staging
        return Staged([], list(exprs), [])
    counts: dict[str, int] = {}

    def extractable(node: Any) -> str | None:
        if not (isinstance(node, dict) and len(node) == 1):
            return None
        (kind,) = node
        if kind in _NOT_EXTRACTED:
            return None
        text, column, unsafe = facts.of(node)
        return text if column and not unsafe else None

    def count(node: Any, protected: bool = False) -> None:
        if isinstance(node, dict):
            text = None if protected else extractable(node)
            if text is not None:
                counts[text] = counts.get(text, 0) + 1
                if counts[text] > 1:
                    return  # its subtrees were counted with the first copy
            builder = _is_struct_builder(node)
            for key, value in node.items():
                if builder and key == "Function":
                    for input_node in value.get("input", []):
                        count(input_node, True)
                    continue
                count(value)
        elif isinstance(node, list):
            for value in node:
                count(value)

    for tree in trees:
        count(tree, True)
    shared = {text for text, n in counts.items() if n > 1}
    names: dict[str, str] = {}
    level: dict[str, int] = {}
    definitions: dict[str, Any] = {}

    def rewrite(node: Any, protected: bool = False) -> tuple[Any, int]:
        if isinstance(node, dict):
            text = None if protected else extractable(node)
            if text is not None and text in shared:
                name = names.get(text)
                if name is None:
                    inner, depth = rewrite_children(node)
                    name = f"{prefix}{len(names)}"
                    names[text] = name
                    level[name] = depth + 1
                    definitions[name] = inner
                return {"Column": name}, level[name]
            return rewrite_children(node)
        if isinstance(node, list):
            out, depth = [], 0
            for value in node:
                new, d = rewrite(value)
                out.append(new)
                depth = max(depth, d)
            return out, depth
        return node, 0

    def rewrite_children(node: dict) -> tuple[dict, int]:
        builder = _is_struct_builder(node)
        out: dict[str, Any] = {}
        depth = 0
        for key, value in node.items():
            if builder and key == "Function":
                inputs = []
                for input_node in value.get("input", []):
                    new, d = rewrite(input_node, True)
                    inputs.append(new)
                    depth = max(depth, d)
                out[key] = {**value, "input": inputs}
                continue
            new, d = rewrite(value)
            out[key] = new
            depth = max(depth, d)
        return out, depth

    try:
        finals = [_load(rewrite(tree, True)[0]) for tree in trees]
        by_level: dict[int, list[pl.Expr]] = {}
        for name, definition in definitions.items():
            by_level.setdefault(level[name], []).append(_load(definition).alias(name))
    except Exception:  # noqa: BLE001 - a rewritten tree Polars does not read back: no staging
        return Staged([], list(exprs), [])
    return Staged([by_level[k] for k in sorted(by_level)], finals, list(definitions))


def _load(node: Any) -> pl.Expr:
    return pl.Expr.deserialize(io.StringIO(json.dumps(node)), format="json")
