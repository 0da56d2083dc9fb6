"""Query-string parameters of the pages and the API, checked as strictly as `static/openapi.json` states them.

`make_request` validates what the search needs (and is lenient for the CLI: `group` may be
a boolean, an empty `page` means the default). A URL is a public contract, so here a value
the description does not allow is a 400 with a message, never quietly read some other way:
the page's own links only ever carry values that pass.
"""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from ..search import SORTS, InvalidSearch, Limits, SearchRequest, make_request
from ..search.facets import FACETS_BY_NAME

CONTROL_PARAMS = frozenset({"q", "sort", "page", "per_page", "group", "typing"})
GROUPS = ("", "article")
TYPING = {"": False, "false": False, "true": True}
WHOLE_NUMBER = re.compile(r"-?[0-9]+")  # ASCII digits: int() would also take " 3", "1_0" and "٣"
MAX_FACET_VALUES = 50  # per facet, as `make_request` allows
MAX_VALUE_LENGTH = 200


def _given_once(args: MultiDict, names: frozenset[str]) -> None:
    for name in sorted(names):
        count = len(args.getlist(name))
        if count > 1:
            raise InvalidSearch(f"{name} was given {count} times; give {name} once.")


def _check_query(q: str, limits: Limits) -> None:
    """The raw query's length: cleaning may shorten it, but the description bounds what is sent."""
    if len(q) > limits.max_query_length:
        raise InvalidSearch(f"The query is {len(q)} characters long; the limit is {limits.max_query_length}.")


def _check_controls(args: MultiDict, limits: Limits) -> None:
    _check_query(args.get("q", ""), limits)
    if "sort" in args and args["sort"] not in SORTS:
        raise InvalidSearch(f"sort must be one of {', '.join(SORTS)}, not {args['sort'][:40]!r}.")
    for name in ("page", "per_page"):
        if name in args and not WHOLE_NUMBER.fullmatch(args[name]):
            raise InvalidSearch(f"{name} must be a whole number, not {args[name][:40]!r}.")
    if args.get("group", "") not in GROUPS:
        raise InvalidSearch(f"group must be 'article' or empty, not {args['group'][:40]!r}.")
    if args.get("typing", "") not in TYPING:
        raise InvalidSearch(f"typing must be true, false or empty, not {args['typing'][:40]!r}.")


def _check_facets(args: MultiDict) -> None:
    for name in FACETS_BY_NAME:
        values = args.getlist(name)
        if len(values) > MAX_FACET_VALUES or any(len(value) > MAX_VALUE_LENGTH for value in values):
            raise InvalidSearch(
                f"{name} takes at most {MAX_FACET_VALUES} values of at most {MAX_VALUE_LENGTH} characters each."
            )


def parse_search_args(args: MultiDict, limits: Limits, default_per_page: int, typing: bool = False) -> SearchRequest:
    """The search a query string asks for (`typing`: sent while the person types, whatever the
    query string says); `InvalidSearch` says what is wrong with it."""
    unknown = [name for name in args if name not in CONTROL_PARAMS and name not in FACETS_BY_NAME]
    if unknown:
        raise InvalidSearch(
            f"Unknown parameter {unknown[0][:40]!r}. Use q, sort, page, per_page, group, typing "
            f"or a facet: {', '.join(FACETS_BY_NAME)}."
        )
    _given_once(args, CONTROL_PARAMS)
    _check_controls(args, limits)
    _check_facets(args)
    return make_request(
        q=args.get("q", ""),
        filters={name: args.getlist(name) for name in FACETS_BY_NAME if name in args},
        sort=args.get("sort"),
        page=args.get("page"),
        per_page=args.get("per_page"),
        group=args.get("group", ""),
        limits=limits,
        default_per_page=default_per_page,
    ).with_changes(typing=typing or TYPING[args.get("typing", "")])


def parse_article_args(args: MultiDict, limits: Limits) -> str:
    """The words to mark in an article (`q`, the API's only parameter)."""
    unknown = [name for name in args if name != "q"]
    if unknown:
        raise InvalidSearch(f"Unknown parameter {unknown[0][:40]!r}. An article takes only q.")
    _given_once(args, frozenset({"q"}))
    q = args.get("q", "")
    _check_query(q, limits)
    return q
