"""Product-type validation: Amazon's product-type JSON Schemas (draft 2019-09 + Amazon's vocabulary), compiled and
cached by checksum, applied to the attribute payloads the catalog produces."""

from .compiled import REQUIREMENTS, CompiledProductType
from .frame import ISSUE_COLUMNS, validate_attributes
from .issues import Issue, format_path
from .registry import ProductTypeRegistry, UnknownProductType, checksum_of, default_registry

__all__ = [
    "ISSUE_COLUMNS",
    "REQUIREMENTS",
    "CompiledProductType",
    "Issue",
    "ProductTypeRegistry",
    "UnknownProductType",
    "checksum_of",
    "default_registry",
    "format_path",
    "validate_attributes",
]
