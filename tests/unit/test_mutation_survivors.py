"""The bugs a mutation pass slipped past the suite (issue 16), each pinned by a test that fails
when the bug is put back: a nested ``node_modules/`` under a watch rule, two tenants sharing
exactly one host port, a 4-character secret in a log line. (The coalescer under a constant backlog
is pinned in ``test_coalesce.py``: ``test_a_constant_backlog_still_delivers_at_max_wait``.)"""

from __future__ import annotations

from pathlib import Path

from devenv.errors import ConfigError
from devenv.model.loader import load_project
from devenv.model.resolve import resolve
from devenv.model.types import WatchRule
from devenv.secrets import MASK, Masker
from devenv.watch.ignore import never_ignored
from devenv.watch.mapping import plan_changes

SHOP = "examples/shop"


def _plan_with_rule(sample: Path, rule: WatchRule, rel: str) -> tuple[list[str], int]:
    """(container paths synced, paths ignored) for one modified file under ``rule``."""
    proj, _ = load_project(sample)
    comps = dict(proj.app.components)
    comps["web"] = type(comps["web"])(**{**comps["web"].__dict__, "watch": (rule,)})
    app = type(proj.app)(**{**proj.app.__dict__, "components": comps})
    specs = [resolve(type(proj)(app, proj.profiles, proj.overlay), "acme")]
    plan = plan_changes(app, specs, {app.root / rel: "modified"}, is_ignored=never_ignored)
    return [f[1] for s in plan.syncs for f in s.files], len(plan.ignored)


def test_a_node_modules_nested_under_the_rule_is_ignored_too(sample: Path) -> None:
    rule = WatchRule(f"{SHOP}/web/static", "sync", "/s", ignore=("node_modules/",))
    assert _plan_with_rule(sample, rule, f"{SHOP}/web/static/widgets/node_modules/x/i.js") == ([], 1)
    assert _plan_with_rule(sample, rule, f"{SHOP}/web/static/widgets/i.js") == (["/s/widgets/i.js"], 0)


def _pin_acme(sample: Path, port_base: int) -> list[str]:
    """Pin acme's port_base in the overlay; return the messages the load reports."""
    local = sample / "devenv.local.yaml"
    local.write_text(local.read_text() + f"  acme:\n    port_base: {port_base}\n")
    try:
        _project, warnings = load_project(sample)
    except ConfigError as exc:
        return [p.message for p in exc.problems]
    return [w.message for w in warnings]


def test_tenants_sharing_exactly_one_port_fail_validation(sample: Path) -> None:
    # globex publishes 18020-18022 (port_base 18000, 20 per tenant, 3 ports); acme pinned to
    # 18018 publishes 18018-18020: one port in common, the last of acme's and the first of globex's
    msgs = _pin_acme(sample, 18018)
    assert any("'acme' (18018-18020) and 'globex' (18020-18022) overlap" in m for m in msgs), msgs


def test_adjacent_port_ranges_pass(sample: Path) -> None:
    assert not [m for m in _pin_acme(sample, 18017) if "overlap" in m]


def test_a_four_character_secret_is_masked_and_a_three_character_one_is_not() -> None:
    masker = Masker(["abcd", "xyz"])
    assert masker.mask("password=abcd user=xyz") == f"password={MASK} user=xyz"
