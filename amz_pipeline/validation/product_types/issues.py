"""Product-type issues in the shape Amazon reports them: attribute path, rule, code, category.

Codes follow Amazon's listing issues where one is documented (FACTS.md section 4: `90220` for a required attribute
that is missing, `99022` for an invalid value); `90000900` is the sandbox-visible code for an attribute the product
type does not define. `template_type` (a cell the template could not cast) uses `99022` too: it is an invalid value.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
MISSING = "MISSING_ATTRIBUTE"
INVALID = "INVALID_ATTRIBUTE"
CODE_MISSING = "90220"
CODE_INVALID = "99022"
CODE_UNKNOWN = "90000900"
CODE_DEPRECATED = "DEPRECATED"

MISSING_RULES = frozenset({"required", "conditional_required"})


@dataclass(frozen=True, slots=True)
class Issue:
    """One violation. `field` is the attribute path (`purchasable_offer[0].our_price`); `attribute_names` are the
    top-level attributes concerned (one, or the alternatives of a conditional `anyOf` requirement)."""

    field: str
    rule: str
    message: str
    attribute_names: tuple[str, ...]
    severity: str = ERROR

    @property
    def code(self) -> str:
        if self.rule in MISSING_RULES:
            return CODE_MISSING
        if self.rule == "additionalProperties":
            return CODE_UNKNOWN
        if self.rule == "deprecated":
            return CODE_DEPRECATED
        return CODE_INVALID

    @property
    def category(self) -> str:
        return MISSING if self.rule in MISSING_RULES else INVALID


def format_path(path: list[str | int] | tuple[str | int, ...]) -> str:
    """`['purchasable_offer', 0, 'our_price']` → `purchasable_offer[0].our_price`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
