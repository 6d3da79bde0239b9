"""Product-type schemas compiled, through a template, into Polars expressions over the template's source columns.

A template (`amz_pipeline.catalog.mapping`) fixes the *shape* of every payload it builds: which attributes, how many
instances, which leaves, and the JSON type of each leaf. Only the leaf values and whether each leaf/instance is
present vary per row. So a schema can be evaluated once, symbolically, against that shape: each keyword becomes a
boolean Polars expression ("this row violates it") over the materialized leaf columns, plus a field path (an
expression when an instance's index depends on which earlier instances the row emits) and a rule. Evaluating those
expressions validates every template row with no per-row Python; the issues are the ones `CompiledProductType`
reports for the same payload (same field, rule, severity, code; leaf-value messages are jsonschema-rs's own text,
computed once per distinct failing value).

Compiled column-wise (draft 2019-09 + Amazon's vocabulary, as used by Amazon's product-type schemas): `$ref` (local),
`type`, `enum`, `const`, `minLength`, `maxLength`, `pattern` (when the regex means the same in Polars; otherwise
checked per distinct value by jsonschema-rs), `format` `date`/`date-time`/`uri` (a strict regex accepts the common
spellings column-wise; the rest are judged per distinct value by jsonschema-rs), `minimum`, `maximum`,
`exclusiveMinimum`, `exclusiveMaximum`, `minItems`, `maxItems`, `items` (one schema), `contains`, `required` (the
top-level set per row's `requirements`), `properties`, `additionalProperties` (boolean or schema), `minProperties`,
`maxProperties`, `allOf`, `if`/`then`/`else`, `not`, `anyOf` whose branches are single-property `required`s, and,
outside conditionals, `maxUniqueItems`/`minUniqueItems` (per selector combination, over the instances the
template can emit), `maxUtf8ByteLength`/`minUtf8ByteLength` (`str.len_bytes`) and deprecated attributes.

Not compiled (the rows concerned fall back to the per-payload validator, `Compiled.fallback`): `oneOf`,
`anyOf` with other branches, `dependentRequired`/`dependentSchemas`, `patternProperties`, `propertyNames`,
`uniqueItems`, `multipleOf`, `unevaluated*`, `prefixItems`/array-form `items`, remote `$ref`, enum/const/unique
comparisons of objects or arrays, and any schema whose Amazon keywords sit under conditional applicators (the
per-payload validator then runs them as custom keywords). When such a construct sits under one attribute, only rows
emitting that attribute fall back; at the top level, every row of the product type does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
import polars as pl

from amz_pipeline.catalog import mapping

from .compiled import CompiledProductType
from .issues import ERROR, WARNING, format_path
from .vocabulary import CheckTree, compile_checks

Cond = bool | pl.Expr
PathPart = str | int | pl.Expr

_IGNORED = frozenset({"title", "description", "examples", "editable", "hidden", "enumNames", "default", "$comment",
                      "$lifecycle", "selectors", "$schema", "$id", "$defs", "$anchor", "deprecated", "readOnly",
                      "writeOnly", "maxUniqueItems", "minUniqueItems", "maxUtf8ByteLength", "minUtf8ByteLength"})
_TYPE_OF_KIND = {"string": {"string"}, "integer": {"integer", "number"}, "number": {"number"},
                 "boolean": {"boolean"}, "object": {"object"}, "array": {"array"}}
# Values matching these are valid for jsonschema-rs's format checks (tests hold that); anything else is judged by
# jsonschema-rs itself, once per distinct value.
_FAST_FORMAT = {
    "date": r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$",
    "date-time": r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                 r"(\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
    "uri": r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(/([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*"
           r"(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$",
}
_SAFE_REGEX = re.compile(r"^(?:[^\\(]|\\[.\-+*?^$|(){}\[\]/]|\\d|\((?!\?))*$")


class Unsupported(Exception):  # noqa: N818 - a signal, caught inside this module
    """A schema construct this compiler does not evaluate column-wise."""


# --- boolean conditions with constant folding ------------------------------------------------------------------


def _and(*conds: Cond) -> Cond:
    exprs = []
    for c in conds:
        if c is False:
            return False
        if c is not True:
            exprs.append(c)
    if not exprs:
        return True
    return exprs[0] if len(exprs) == 1 else pl.all_horizontal(exprs)


def _or(*conds: Cond) -> Cond:
    exprs = []
    for c in conds:
        if c is True:
            return True
        if c is not False:
            exprs.append(c)
    if not exprs:
        return False
    return exprs[0] if len(exprs) == 1 else pl.any_horizontal(exprs)


def _not(cond: Cond) -> Cond:
    return (not cond) if isinstance(cond, bool) else ~cond


def _expr(cond: Cond) -> pl.Expr:
    return pl.lit(cond) if isinstance(cond, bool) else cond


# --- the shape of a template's payload -------------------------------------------------------------------------


@dataclass
class Node:
    """A JSON value the template may emit: `present` says in which rows; leaves carry their value expression
    (never null where present) or a known constant."""

    kind: str  # object | array | string | integer | number | boolean | null
    present: Cond
    value: pl.Expr | None = None
    const: Any = None
    is_const: bool = False
    children: dict[str, Node] = field(default_factory=dict)
    items: list[Node] = field(default_factory=list)


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def _const_node(value: Any, present: Cond = True) -> Node:
    kind = _kind_of(value)
    if kind == "object":
        return Node(kind, present, children={k: _const_node(v, present) for k, v in value.items()})
    if kind == "array":
        return Node(kind, present, items=[_const_node(v, present) for v in value])
    return Node(kind, present, value=pl.lit(value), const=value, is_const=True)


def _leaf_node(leaf: mapping.Leaf) -> Node:
    if leaf.kind == "const":
        return _const_node(leaf.const)
    return Node(leaf.kind, leaf.value.is_not_null(), value=leaf.value)


def _object_node(entries: dict[tuple[str | int, ...], Node]) -> Node:
    """The object built from leaves keyed by their path below it (`0` = a one-element array)."""
    groups: dict[str, dict[tuple[str | int, ...], Node]] = {}
    for path, node in entries.items():
        groups.setdefault(str(path[0]), {})[path[1:]] = node
    children = {}
    for key, sub in groups.items():
        if () in sub:
            children[key] = sub[()]
        elif all(p and p[0] == 0 for p in sub):
            item = _object_node({p[1:]: n for p, n in sub.items()})
            children[key] = Node("array", item.present, items=[item])
        else:
            children[key] = _object_node(sub)
    return Node("object", _or(*(c.present for c in children.values())), children=children)


def _restrict(node: Node, cond: Cond) -> None:
    """A value exists only where its parent does: AND `cond` into `node` and everything below it."""
    node.present = _and(cond, node.present)
    for child in (*node.children.values(), *node.items):
        _restrict(child, node.present)


def payload_shape(plan: mapping.Plan) -> Node:
    """The root object of the payloads `plan` builds (offer-only gating and FBA rules included)."""
    kept = set(plan.template.offer_attributes) | {"merchant_suggested_asin"}
    attributes: dict[str, Node] = {}
    for name, instances in plan.attributes.items():
        gate: Cond = True if name in kept else _not(plan.offer_only)
        items = []
        for compiled in instances:
            instance = _object_node({path: _leaf_node(leaf) for path, leaf in compiled.leaves.items()})
            _restrict(instance, _and(gate, compiled.present))
            items.append(instance)
        attributes[name] = Node("array", _or(*(i.present for i in items)), items=items)
    return Node("object", True, children=attributes)


# --- checks ----------------------------------------------------------------------------------------------------


@dataclass
class Check:
    """One possible issue: rows where `when` holds get (field, rule, message)."""

    path: tuple[PathPart, ...]
    rule: str
    when: pl.Expr
    names: tuple[str, ...]
    severity: str = ERROR
    # The message is "'<field>' <message>"; without one it is "'<field>' is invalid (<rule>): <detail>", the
    # detail being jsonschema-rs's message for `value` under the one-keyword schema `keyword`.
    message: str | None = None
    keyword: dict[str, Any] | None = None
    value: pl.Expr | None = None
    field_override: str | None = None  # anyOf alternatives "a|b"; the message is then `message` as is
    byte_bound: tuple[str, int] | None = None  # ("maximum" | "minimum", limit) of a UTF-8 byte length
    # The top-level attribute whose value alone decides this check (its schema, its presence for `required`);
    # None for the top-level rules, which may read several attributes.
    scope: str | None = None


@dataclass
class PythonCheck:
    """A leaf check judged by jsonschema-rs once per distinct value (`fast_ok` values need no judging)."""

    column: str
    value: pl.Expr
    present: Cond
    schema: dict[str, Any]
    fast_ok: pl.Expr | None


@dataclass
class Compiled:
    """A product type's schema compiled against one template plan."""

    checks: list[Check]
    python_checks: list[PythonCheck]
    fallback: Cond  # rows the per-payload validator must judge
    fallback_reasons: list[str]


def _field(path: tuple[PathPart, ...]) -> str | pl.Expr:
    if all(not isinstance(p, pl.Expr) for p in path):
        return format_path(list(path))  # type: ignore[arg-type]
    parts: list[pl.Expr] = []
    text = ""
    for part in path:
        if isinstance(part, pl.Expr):
            parts.extend([pl.lit(text + "["), part.cast(pl.String)])
            text = "]"
        elif isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if (text or parts) else part
    parts.append(pl.lit(text))
    return pl.concat_str(parts)


class _Compiler:
    def __init__(self, schema: dict[str, Any], python_checks: list[PythonCheck]) -> None:
        self.defs = schema.get("$defs", {})
        self.checks: list[Check] = []
        self.python_checks = python_checks

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#/$defs/") or ref[len("#/$defs/"):] not in self.defs:
            raise Unsupported(f"$ref {ref}")
        return self.defs[ref[len("#/$defs/"):]]

    # Every method returns the conditions (rows) under which `node` violates `schema`; when `emit`, it also records
    # the issues the per-payload validator would report. `conditional`: below `then`/`else`.

    def schema(self, schema: Any, node: Node, path: tuple[PathPart, ...], emit: bool, conditional: bool,
               depth: int = 0) -> list[Cond]:
        if depth > 48:
            raise Unsupported("schema nesting too deep")
        if schema is True or node.present is False:
            return []
        if schema is False:
            raise Unsupported("false schema")
        if not isinstance(schema, dict):
            raise Unsupported("non-object schema")
        fails: list[Cond] = []
        top = (str(path[0]),) if path else ()
        present = node.present

        def fail(cond: Cond, rule: str, *, message: str | None = None, keyword: dict | None = None,
                 sub_path: tuple[PathPart, ...] | None = None, names: tuple[str, ...] | None = None,
                 field_override: str | None = None) -> None:
            cond = _and(present, cond)
            if cond is False:
                return
            fails.append(cond)
            if emit:
                self.checks.append(Check(path if sub_path is None else sub_path, rule, _expr(cond),
                                         top if names is None else names, message=message, keyword=keyword,
                                         value=node.value, field_override=field_override))

        for key, value in schema.items():
            if key in _IGNORED:
                continue
            if key == "$ref":
                fails.extend(self.schema(self.resolve(value), node, path, emit, conditional, depth + 1))
            elif key == "type":
                fail(self.type_fails(value, node), "type", keyword={"type": value})
            elif key in ("enum", "const"):
                fail(self.enum_fails(value if key == "enum" else [value], node), key, keyword={key: value})
            elif key in ("minLength", "maxLength", "pattern", "format"):
                if node.kind == "string":
                    fail(self.string_fails(key, value, node), key, keyword={key: value})
            elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                if node.kind in ("number", "integer"):
                    fail(self.number_fails(key, value, node.value), key, keyword={key: value})
            elif key in ("minItems", "maxItems"):
                if node.kind == "array":
                    count = pl.sum_horizontal([_expr(i.present).cast(pl.Int32) for i in node.items])
                    fail(count < value if key == "minItems" else count > value, key,
                         message=f"has {'fewer' if key == 'minItems' else 'more'} items than {value} allowed")
            elif key == "items":
                if node.kind == "array":
                    if not isinstance(value, dict | bool):
                        raise Unsupported("array-form items")
                    for index, item in self.indexed(node):
                        fails.extend(self.schema(value, item, (*path, index), emit, conditional, depth + 1))
            elif key == "contains":
                if node.kind == "array":
                    matched = _or(*(_and(item.present, _not(_or(*self.schema(value, item, (), False, conditional,
                                                                              depth + 1))))
                                    for item in node.items))
                    fail(_not(matched), "contains", message="contains no item valid under the given schema")
            elif key == "required":
                if node.kind == "object":
                    for name in value:
                        child = node.children.get(name)
                        missing = True if child is None else _not(child.present)
                        rule = "conditional_required" if conditional else "required"
                        why = " by a conditional rule of the product type" if conditional else ""
                        fail(missing, rule, sub_path=(*path, name), names=top or (name,),
                             message=f"is required{why} but not supplied.")
            elif key == "properties":
                if node.kind == "object":
                    for name, child in node.children.items():
                        if name in value:
                            fails.extend(self.schema(value[name], child, (*path, name), emit, conditional,
                                                     depth + 1))
            elif key == "additionalProperties":
                if node.kind == "object" and value is not True:
                    known = schema.get("properties", {})
                    for name, child in node.children.items():
                        if name in known:
                            continue
                        if isinstance(value, dict):
                            fails.extend(self.schema(value, child, (*path, name), emit, conditional, depth + 1))
                        elif path:  # unknown attributes (top level) are reported once, by name, elsewhere
                            rule = "additionalProperties" if "properties" in schema else "falseSchema"
                            message = ("is not a property of this attribute." if rule == "additionalProperties"
                                       else "is invalid (falseSchema): False schema does not allow this value.")
                            fail(child.present, rule, sub_path=(*path, name), message=message)
                        else:
                            fails.append(child.present)
            elif key in ("minProperties", "maxProperties"):
                if node.kind == "object":
                    count = pl.sum_horizontal([_expr(c.present).cast(pl.Int32) for c in node.children.values()])
                    fail(count < value if key == "minProperties" else count > value, key,
                         message=f"has {'fewer' if key == 'minProperties' else 'more'} properties than {value} "
                                 f"allowed")
            elif key == "allOf":
                for sub in value:
                    fails.extend(self.schema(sub, node, path, emit, conditional, depth + 1))
            elif key == "if":
                matched = _not(_or(*self.schema(value, node, path, False, conditional, depth + 1)))
                for branch, when in (("then", matched), ("else", _not(matched))):
                    if branch in schema and when is not False:
                        saved = len(self.checks)
                        branch_fails = self.schema(schema[branch], node, path, emit, True, depth + 1)
                        fails.extend(_and(when, f) for f in branch_fails)
                        for check in self.checks[saved:]:
                            check.when = _expr(_and(when, check.when))
            elif key in ("then", "else"):
                continue  # handled with `if`; without `if` they do nothing
            elif key == "not":
                matched = _not(_or(*self.schema(value, node, path, False, conditional, depth + 1)))
                rule = "conditional_forbidden" if conditional else "not"
                fail(matched, rule, message=f"is invalid ({rule}): "
                                            f"{json.dumps(value, separators=(',', ':'))} is not allowed here.")
            elif key == "anyOf":
                self.any_of(value, node, path, conditional, fail)
            else:
                raise Unsupported(f"keyword {key!r}")
        return fails

    @staticmethod
    def any_of(branches: list[Any], node: Node, path: tuple[PathPart, ...], conditional: bool, fail: Any) -> None:
        alternatives = []
        for branch in branches:
            if not (isinstance(branch, dict) and set(branch) == {"required"} and len(branch["required"]) == 1):
                raise Unsupported("anyOf with branches other than one required property")
            alternatives.append(branch["required"][0])
        if node.kind != "object":
            return
        valid = _or(*(node.children[a].present for a in alternatives if a in node.children))
        static = [p if not isinstance(p, pl.Expr) else None for p in path]
        if any(p is None for p in static):
            raise Unsupported("anyOf below a variable index")
        names = tuple(format_path([*static, a]) for a in alternatives)  # type: ignore[list-item]
        rule = "conditional_required" if conditional or not path else "required"
        shown = " or ".join(f"'{n}'" for n in names)
        top = (str(path[0]),) if path else tuple(alternatives)
        fail(_not(valid), rule, names=top, message=f"{shown} is required but not supplied.",
             field_override="|".join(names))

    def indexed(self, node: Node) -> list[tuple[PathPart, Node]]:
        """Each item with its index in the emitted array (an expression when earlier items are optional)."""
        out: list[tuple[PathPart, Node]] = []
        fixed = 0
        dynamic: list[pl.Expr] = []
        for item in node.items:
            out.append((fixed if not dynamic else pl.sum_horizontal(dynamic) + fixed, item))
            if item.present is True:
                fixed += 1
            elif item.present is not False:
                dynamic.append(item.present.cast(pl.Int32))
        return out

    @staticmethod
    def type_fails(types: str | list[str], node: Node) -> Cond:
        allowed = {types} if isinstance(types, str) else set(types)
        if node.kind == "null":
            return "null" not in allowed
        if _TYPE_OF_KIND[node.kind] & allowed:
            return False
        if node.kind == "number" and "integer" in allowed:
            return node.value != node.value.floor()  # type: ignore[union-attr]
        return True

    @staticmethod
    def enum_fails(members: list[Any], node: Node) -> Cond:
        if node.kind in ("object", "array"):
            raise Unsupported("enum/const on an object or array")
        if node.kind == "string":
            allowed = [m for m in members if isinstance(m, str)]
        elif node.kind == "boolean":
            allowed = [m for m in members if isinstance(m, bool)]
        elif node.kind == "null":
            return None not in members
        else:
            allowed = [float(m) for m in members if isinstance(m, int | float) and not isinstance(m, bool)]
        if node.is_const:
            value = float(node.const) if node.kind in ("number", "integer") else node.const
            return value not in allowed
        if not allowed:
            return True
        value = node.value.cast(pl.Float64) if node.kind in ("number", "integer") else node.value
        return ~value.is_in(allowed)  # type: ignore[union-attr]

    def string_fails(self, key: str, limit: Any, node: Node) -> Cond:
        value = node.value
        assert value is not None
        if node.is_const:
            return not jsonschema_rs.is_valid({key: limit}, node.const, validate_formats=True)
        if key == "minLength":
            return value.str.len_chars() < limit
        if key == "maxLength":
            return value.str.len_chars() > limit
        if key == "pattern":
            translated = _polars_regex(limit)
            if translated is not None:
                return ~value.str.contains(translated)
            return self.python_check(value, node.present, {"pattern": limit}, None)
        if limit not in _FAST_FORMAT:
            return False if limit not in ("email", "ipv4", "ipv6", "uuid", "time", "duration", "hostname",
                                          "uri-reference", "iri", "regex") else \
                self.python_check(value, node.present, {"format": limit}, None)
        return self.python_check(value, node.present, {"format": limit}, value.str.contains(_FAST_FORMAT[limit]))

    def python_check(self, value: pl.Expr, present: Cond, schema: dict[str, Any], fast_ok: pl.Expr | None) -> pl.Expr:
        column = f"__py{len(self.python_checks)}"
        self.python_checks.append(PythonCheck(column, value, present, schema, fast_ok))
        return pl.col(column)

    @staticmethod
    def number_fails(key: str, limit: float, value: pl.Expr | None) -> Cond:
        assert value is not None
        return {"minimum": value < limit, "maximum": value > limit, "exclusiveMinimum": value <= limit,
                "exclusiveMaximum": value >= limit}[key]


def _polars_regex(pattern: str) -> str | None:
    """`pattern` for Polars' regex engine when it means the same there as in ECMA-262 (ASCII `\\d`), else None."""
    if not _SAFE_REGEX.match(pattern):
        return None
    translated = pattern.replace(r"\d", "[0-9]")
    try:
        pl.select(pl.lit("").str.contains(translated))
    except pl.exceptions.PolarsError:
        return None
    return translated


# --- Amazon's keywords, along the check tree -------------------------------------------------------------------


def _tree_checks(tree: CheckTree, node: Node, path: tuple[PathPart, ...], out: list[Check]) -> None:
    if node.present is False:
        return
    top = (str(path[0]),) if path else ()
    if tree.deprecated is not None:
        out.append(Check(path, "deprecated", _expr(node.present), top, WARNING, message=tree.deprecated))
    for keyword, limit in tree.keywords:
        if keyword.endswith("UniqueItems"):
            if node.kind != "array":
                continue
            if keyword == "maxUniqueItems" and len(node.items) <= limit:
                continue
            violated = _unique_violation(keyword, limit, tree.selectors, node.items)
            message = (f"each combination of selector values may occur at most {limit} time(s)"
                       if keyword == "maxUniqueItems"
                       else f"each combination of selector values must occur at least {limit} time(s)")
            cond = _and(node.present, violated)
            if cond is not False:
                out.append(Check(path, keyword, _expr(cond), top, message=message + "."))
        elif node.kind == "string":
            assert node.value is not None
            size = node.value.str.len_bytes()
            violated = size > limit if keyword == "maxUtf8ByteLength" else size < limit
            if node.is_const:
                violated = (len(node.const.encode("utf-8")) > limit if keyword == "maxUtf8ByteLength"
                            else len(node.const.encode("utf-8")) < limit)
            cond = _and(node.present, violated)
            if cond is not False:
                bound = "maximum" if keyword == "maxUtf8ByteLength" else "minimum"
                out.append(Check(path, keyword, _expr(cond), top, value=node.value, byte_bound=(bound, limit)))
    if tree.properties and node.kind == "object":
        for name, child in node.children.items():
            sub = tree.properties.get(name)
            if sub is not None:
                _tree_checks(sub, child, (*path, name), out)
    if tree.items is not None and node.kind == "array":
        for index, item in _Compiler({}, []).indexed(node):
            _tree_checks(tree.items, item, (*path, index), out)


def _unique_violation(keyword: str, limit: int, selectors: list[str] | None, items: list[Node]) -> Cond:
    def same(a: Node, b: Node) -> Cond:
        if not selectors:
            return _same_value(a, b)
        return _and(*(_same_value(a.children.get(s), b.children.get(s)) for s in selectors))

    violations = []
    for item in items:
        count = [_and(other.present, same(item, other)) for other in items]
        counted = pl.sum_horizontal([_expr(c).cast(pl.Int32) for c in count])
        violations.append(_and(item.present, counted > limit if keyword == "maxUniqueItems" else counted < limit))
    return _or(*violations)


def _same_value(a: Node | None, b: Node | None) -> Cond:
    """JSON equality of two optional leaves (both absent counts as equal, as in the per-payload check)."""
    if a is None and b is None:
        return True
    if a is None or b is None:
        node = a or b
        return _not(node.present)  # type: ignore[union-attr]
    if a.kind in ("object", "array") or b.kind in ("object", "array"):
        raise Unsupported("unique-items comparison of objects or arrays")
    numeric = {"number", "integer"}
    both_absent = _and(_not(a.present), _not(b.present))
    if not (a.kind == b.kind or (a.kind in numeric and b.kind in numeric)):
        return both_absent
    if a.is_const and b.is_const:
        equal: Cond = a.const == b.const
    else:
        left = a.value.cast(pl.Float64) if a.kind in numeric else a.value  # type: ignore[union-attr]
        right = b.value.cast(pl.Float64) if b.kind in numeric else b.value  # type: ignore[union-attr]
        equal = (left == right).fill_null(False)
    return _or(both_absent, _and(a.present, b.present, equal))


# --- compiling a product type ----------------------------------------------------------------------------------


def compile_for_plan(validators: dict[str, CompiledProductType], plan: mapping.Plan) -> Compiled:
    """The checks of a product type (one validator per `requirements` value the plan can produce: LISTING and
    LISTING_OFFER_ONLY) against payloads built by `plan`."""
    listing = validators["LISTING"]
    schema = listing.schema
    root = payload_shape(plan)
    requirements = {"LISTING": _not(plan.offer_only), "LISTING_OFFER_ONLY": plan.offer_only}
    checks: list[Check] = []
    python_checks: list[PythonCheck] = []
    fallback: list[Cond] = []
    reasons: list[str] = []
    properties = schema.get("properties", {})
    tree, covered = compile_checks(schema)
    if not covered:
        return Compiled([], [], True, ["Amazon keywords under conditional applicators"])
    for name, attribute in root.children.items():
        if attribute.present is False:
            continue
        if name not in properties:
            checks.append(Check((name,), "additionalProperties", _expr(attribute.present), (name,),
                                message=f"is not an attribute of product type {listing.product_type}.",
                                scope=name))
            continue
        compiler = _Compiler(schema, python_checks)
        registered = len(python_checks)
        try:
            compiler.schema(properties[name], attribute, (name,), True, False)
            sub = tree.properties.get(name)
            if sub is not None:
                _tree_checks(sub, attribute, (name,), compiler.checks)
        except Unsupported as error:
            del python_checks[registered:]
            fallback.append(attribute.present)
            reasons.append(f"{name}: {error}")
            continue
        for check in compiler.checks:
            check.scope = name
        checks.extend(compiler.checks)
    for value, when in requirements.items():
        if when is False or value not in validators:
            continue
        for name in validators[value].required:
            child = root.children.get(name)
            missing = _and(when, True if child is None else _not(child.present))
            if missing is not False:
                checks.append(Check((name,), "required", _expr(missing), (name,),
                                    message="is required but not supplied.", scope=name))
    rest = {k: v for k, v in schema.items() if k not in ("required", "properties", "additionalProperties", "type")}
    compiler = _Compiler(schema, python_checks)
    try:
        compiler.schema(rest, root, (), True, False)
    except Unsupported as error:
        return Compiled([], [], True, [f"top level: {error}"])
    checks.extend(compiler.checks)
    return Compiled(checks, python_checks, _or(*fallback), reasons)
