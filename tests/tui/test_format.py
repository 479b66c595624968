"""Words and symbols the panes show: meaning never rests on colour alone."""

from __future__ import annotations

from devenv.engine.state import fold
from devenv.events import BuildProgress, BuildStarted, ComponentState, Timeline
from tests.tui.fakes import TZ, at
from tui.format import (
    COMPONENT_STATES,
    component_label,
    port_of,
    progress_bar,
    short_tag,
    tenant_label,
    timeline_label,
)


def test_every_state_has_a_symbol_and_a_word() -> None:
    for symbol, word, _ in COMPONENT_STATES.values():
        assert symbol.strip() and word.strip()


def test_small_pieces() -> None:
    assert progress_bar(3, 7) == "[###----]"
    assert progress_bar(0, 0) == "[-------]"
    assert short_tag("registry:5000/shop-web:a41c9e2f00") == "a41c9e2"
    assert short_tag("shop-web") == "shop-web"[:7]
    assert port_of("http://127.0.0.1:18001/") == ":18001"
    assert port_of("") == ""


def test_component_line_while_building() -> None:
    state = fold([
        ComponentState(tenant="acme", component="web", state="pending", image="shop-web:abc1234ff"),
        BuildStarted(image="shop-web", tag="abc1234ff"),
        BuildProgress(image="shop-web", step=5, total=7),
    ])
    label = component_label(state, state.components[("acme", "web")], False, 8).plain
    assert label == "  web      build 5/7 [#####--]"


def test_component_line_when_up() -> None:
    state = fold([ComponentState(tenant="acme", component="api", state="healthy", image="shop-api:77be013aa",
                                 url="http://127.0.0.1:18002")])
    assert component_label(state, state.components[("acme", "api")], True, 8).plain == \
        "■ api      ✓ ok       :18002 77be013"
    assert tenant_label(state, "acme", False).plain == "  acme  ○ stopped 1/1"


def test_timeline_line_says_what_why_and_cost() -> None:
    ev = Timeline(kind="sync", message="synced index.html by rule templates/**", component="web",
                  tenants=("acme", "globex"), cost_ms=38, ts=at(0))
    assert timeline_label(ev, TZ).plain == \
        "22:13:20 ⇄ sync    web (acme, globex) synced index.html by rule templates/** in 38 ms"


def test_build_found_from_the_components_image_reference() -> None:
    from dataclasses import replace

    from tui.format import build_for

    state = replace(fold([
        ComponentState(tenant="acme", component="frontend", state="pending", image="devenv/shop-web:abc1234ff"),
        BuildStarted(image="web", tag="abc1234ff"),
    ]), app="shop")
    build = build_for(state, state.components[("acme", "frontend")])
    assert build is not None and build.image == "web"
