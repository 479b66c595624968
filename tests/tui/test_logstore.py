"""The bounded log store and the filter: pure, no app needed."""

from __future__ import annotations

from devenv.events import LogLine
from tui.logstore import LogStore, Scope, compile_filter


def lines(tenant: str, component: str, n: int, start: int = 0) -> list[LogLine]:
    return [LogLine(tenant=tenant, component=component, line=f"{component} {i}", ts=0.0)
            for i in range(start, start + n)]


def test_each_component_keeps_at_most_per_key_lines() -> None:
    store = LogStore(per_key=100, total=1_000)
    store.extend(lines("a", "web", 250))
    assert len(store) == 100
    got = store.view(Scope(keys=frozenset({("a", "web")})))
    assert [r.line for r in got][:1] == ["web 150"] and got[-1].line == "web 249"


def test_total_bound_takes_from_the_noisiest_component() -> None:
    store = LogStore(per_key=1_000, total=300)
    store.extend(lines("a", "quiet", 50))
    store.extend(lines("a", "noisy", 900))
    assert len(store) == 300
    assert len(store.view(Scope(keys=frozenset({("a", "quiet")})))) == 50  # the quiet one keeps its history


def test_view_merges_in_arrival_order_and_limits() -> None:
    store = LogStore()
    store.extend([*lines("a", "web", 2), *lines("b", "api", 2), *lines("a", "web", 1, start=2)])
    got = store.view(Scope(tenants=frozenset({"a", "b"})))
    assert [r.line for r in got] == ["web 0", "web 1", "api 0", "api 1", "web 2"]
    assert [r.line for r in store.view(Scope(tenants=frozenset({"a"})), limit=2)] == ["web 1", "web 2"]


def test_tenant_scope_includes_components_seen_later() -> None:
    scope = Scope(tenants=frozenset({"a"}))
    assert ("a", "new") in scope and ("b", "new") not in scope


def test_filter_is_a_case_insensitive_regex() -> None:
    match = compile_filter("err(or)? [45]\\d\\d")
    assert match is not None
    assert match("GET / ERROR 500") and not match("GET / 200")


def test_invalid_regex_falls_back_to_plain_text() -> None:
    match = compile_filter("price [usd")
    assert match is not None
    assert match("price [USD 12") and not match("price usd")
    assert compile_filter("") is None
