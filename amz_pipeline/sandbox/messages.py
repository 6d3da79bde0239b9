"""Localized issue messages (`issueLocale`, the feed header's `issueLocale`, `reasonLocale`).

Texts live in `schemas/sandbox/issue_messages.json`. An issue is created once, in English, as an `Issue`: a plain
dict in Amazon's shape that also remembers its message template, so it can be rendered again in whatever locale a
later request asks for (a stored listing's issues are answered in the getListingsItem caller's `issueLocale`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import schemas

CATALOG_FILE = "sandbox/issue_messages.json"


@cache
def _catalog() -> dict[str, Any]:
    return schemas.load_json(CATALOG_FILE)


@cache
def _marketplace_languages() -> dict[str, str]:
    return {m["id"]: m["default_language_tag"] for m in schemas.load_json("marketplaces.json")["marketplaces"]}


DEFAULT_LOCALE: str = _catalog()["default_locale"]


@cache
def language_of(locale: str) -> str:
    """The catalog language serving a locale: exact tag, else its language (fr_CA -> fr), else en_US's."""
    catalog = _catalog()
    exact = catalog["locales"].get(locale)
    if exact:
        return exact
    language = locale.replace("-", "_").split("_")[0].lower()
    if language in catalog["or"]:
        return language
    return catalog["locales"][DEFAULT_LOCALE]


def resolve_locale(requested: str | None, marketplace_ids: list[str]) -> str:
    """The locale to answer in: the one asked for, else the first marketplace's default language, else en_US."""
    if requested:
        return requested
    if marketplace_ids:
        return _marketplace_languages().get(marketplace_ids[0], DEFAULT_LOCALE)
    return DEFAULT_LOCALE


def render(key: str, locale: str, params: dict[str, Any]) -> str:
    catalog = _catalog()
    language = language_of(locale)
    texts = catalog["messages"][key]
    template = texts.get(language) or texts[catalog["locales"][DEFAULT_LOCALE]]
    joiner = catalog["or"][language]
    values = {k: joiner.join(v) if isinstance(v, list) else v for k, v in params.items()}
    return template.format(**values)


class Issue(dict):
    """An issue in Amazon's shape (code, message, severity, attributeNames, categories, ...) whose message can be
    re-rendered in another locale. Serializes and compares as the plain dict it is."""

    __slots__ = ("template",)

    def localized(self, locale: str) -> dict[str, Any]:
        key, params = self.template
        return {**self, "message": render(key, locale, params)}


def issue(code: str, key: str, attribute_names: list[str], category: str, severity: str = "ERROR",
          **params: Any) -> Issue:
    """An Amazon-style issue with its message `key` rendered in en_US (and re-renderable with `localized`)."""
    found = Issue(code=code, message=render(key, DEFAULT_LOCALE, params), severity=severity,
                  attributeNames=attribute_names, categories=[category])
    found.template = (key, params)
    return found


def localized(issues: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    """Issues as plain dicts with their messages in `locale` (issues restored from a state file keep their text)."""
    if language_of(locale) == language_of(DEFAULT_LOCALE):
        return [dict(i) for i in issues]
    return [i.localized(locale) if isinstance(i, Issue) else dict(i) for i in issues]


def text(key: str, locale: str, **params: Any) -> str:
    """One message (feed-level report issues, restriction reasons) in `locale`."""
    return render(key, locale, params)
