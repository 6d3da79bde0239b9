"""A stateful local emulator of Amazon's Selling Partner API (LWA, Listings Items, Listings Restrictions, Feeds,
Product Type Definitions), faithful to Amazon's published models. Shares data with the pipeline, never logic."""

from .app import create_app
from .config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]
