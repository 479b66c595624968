"""plan_changes on the sample project: which save syncs, which rebuilds, which is ignored, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv.model.loader import load_project
from devenv.model.resolve import resolve
from devenv.model.types import App, TenantSpec, WatchRule
from devenv.watch.ignore import DockerIgnoreCache, never_ignored, noise_reason
from devenv.watch.mapping import (
    ChangeKind,
    ChangePlan,
    container_path,
    is_dependency_manifest,
    matching_rule,
    plan_changes,
    watch_roots,
)

SHOP = "examples/shop"


@pytest.fixture
def project(sample: Path) -> tuple[App, list[TenantSpec]]:
    proj, _ = load_project(sample)
    return proj.app, [resolve(proj, t) for t in ("acme", "globex", "initech")]


def plan(project: tuple[App, list[TenantSpec]], *paths: str, kind: ChangeKind = "modified",
         tenants: tuple[str, ...] | None = None) -> ChangePlan:
    app, specs = project
    if tenants is not None:
        specs = [s for s in specs if s.name in tenants]
    return plan_changes(app, specs, {app.root / p: kind for p in paths}, is_ignored=never_ignored)


def test_template_edit_syncs_web_in_every_tenant_that_builds_it(project):
    p = plan(project, f"{SHOP}/web/templates/shop/index.html", tenants=("acme", "globex"))
    assert p.rebuilds == {} and p.redeploys == {}
    [sync] = p.syncs
    assert sync.component == "web" and sync.rule.action == "sync"
    assert sync.tenants == ("acme", "globex")
    assert sync.files == [(project[0].root / f"{SHOP}/web/templates/shop/index.html",
                           "/srv/web/templates/shop/index.html")]
    assert not sync.then_restart and sync.then_exec is None


def test_web_code_syncs_then_restarts(project):
    [sync] = plan(project, f"{SHOP}/web/web/views.py").syncs
    assert sync.then_restart
    assert sync.files[0][1] == "/srv/web/web/views.py"
    assert sync.tenants == ("acme", "globex", "initech")


def test_requirements_rebuilds_web_and_redeploys_it(project):
    p = plan(project, f"{SHOP}/web/requirements.txt")
    assert p.syncs == []
    assert p.rebuilds == {"web": "requirements.txt changed (rule rebuild)"}
    assert p.redeploys == {"web": ("acme", "globex", "initech")}


def test_manifest_under_a_sync_rule_still_rebuilds(project):
    p = plan(project, f"{SHOP}/api/api/requirements-dev.txt")
    assert p.rebuilds == {"api": "requirements-dev.txt changed (dependency manifest)"}
    assert p.syncs == []


def test_base_change_rebuilds_base_and_its_four_dependents(project):
    p = plan(project, f"{SHOP}/base/shoplib/money.py")
    assert list(p.rebuilds) == ["base", "web", "api", "worker", "scheduler"]
    assert p.rebuilds["base"] == f"{SHOP}/base/shoplib/money.py changed"
    assert "base changed" in p.rebuilds["web"]
    assert "postgres" not in p.rebuilds and "redis" not in p.rebuilds
    assert p.redeploys == {
        "web": ("acme", "globex", "initech"),
        "api": ("acme", "globex"),  # initech disables api
        "worker": ("acme", "globex", "initech"),
        "scheduler": ("acme", "initech"),  # globex disables scheduler
    }


def test_dockerfile_rebuilds(project):
    p = plan(project, f"{SHOP}/api/Dockerfile")
    assert p.rebuilds == {"api": "Dockerfile changed"}
    assert p.redeploys == {"api": ("acme", "globex")}


def test_file_no_rule_covers_rebuilds_with_the_reason(project):
    p = plan(project, f"{SHOP}/web/gunicorn.conf.py")
    assert p.rebuilds == {"web": f"no sync rule of web covers {SHOP}/web/gunicorn.conf.py"}


def test_rebuild_supersedes_sync_of_same_image_and_says_so(project):
    p = plan(project, f"{SHOP}/web/templates/a.html", f"{SHOP}/web/Dockerfile", f"{SHOP}/api/api/x.py")
    assert [s.component for s in p.syncs] == ["api"]
    assert list(p.rebuilds) == ["web"]
    [(path, why)] = p.superseded
    assert path.name == "a.html" and "superseded" in why and "web rebuilds" in why


def test_swap_and_cache_files_are_ignored(project):
    p = plan(project, f"{SHOP}/web/templates/.index.html.swp", f"{SHOP}/web/web/4913",
             f"{SHOP}/web/web/__pycache__/views.cpython-311.pyc", f"{SHOP}/web/.git/index")
    assert p.empty
    reasons = dict((path.name, why) for path, why in p.ignored)
    assert reasons[".index.html.swp"] == "editor temp file"
    assert reasons["4913"] == "editor temp file"
    assert reasons["views.cpython-311.pyc"] == "Python bytecode cache"
    assert reasons["index"] == "version control metadata"


def test_dockerignored_file_is_ignored(project):
    app, specs = project
    ctx = app.images["web"].context
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / ".dockerignore").write_text("# local junk\n*.log\nnotes/\n!notes/keep.md\n")
    changes: dict[Path, ChangeKind] = {ctx / "debug.log": "modified", ctx / "notes/todo.md": "created",
                                       ctx / "notes/keep.md": "modified"}
    p = plan_changes(app, specs, changes, is_ignored=DockerIgnoreCache())
    ignored = {path.name: why for path, why in p.ignored}
    assert set(ignored) == {"debug.log", "todo.md"}
    assert ignored["debug.log"] == ".dockerignore of image web excludes it"
    assert p.rebuilds == {"web": f"no sync rule of web covers {SHOP}/web/notes/keep.md"}


def test_dockerignore_change_rebuilds(project):
    p = plan(project, f"{SHOP}/worker/.dockerignore")
    assert p.rebuilds == {"worker": ".dockerignore changed"}


def test_deleted_template_syncs_a_delete(project):
    [sync] = plan(project, f"{SHOP}/web/templates/old.html", kind="deleted").syncs
    assert sync.files == [(None, "/srv/web/templates/old.html")]


def test_deleted_directory_under_a_rule_maps_as_prefix(project):
    [sync] = plan(project, f"{SHOP}/web/static/img", kind="deleted").syncs
    assert sync.files == [(None, "/srv/web/static/img")]


def test_outside_contexts_is_ignored(project):
    p = plan(project, "README.md", "profiles/acme.yaml")
    assert p.empty
    assert {why for _, why in p.ignored} == {"outside every watched context"}


def test_components_no_tenant_builds_are_not_acted_on(project):
    p = plan(project, f"{SHOP}/scheduler/scheduler/jobs.py", tenants=("globex",))
    assert p.empty
    assert "not built from source" in p.ignored[0][1]


def test_backing_service_without_rules_rebuilds(project):
    p = plan(project, f"{SHOP}/services/redis/redis.conf")
    assert p.rebuilds == {"redis": f"no sync rule of redis covers {SHOP}/services/redis/redis.conf"}
    assert p.redeploys == {"redis": ("acme", "globex", "initech")}


def test_many_causes_are_summarised(project):
    p = plan(project, f"{SHOP}/web/a.py", f"{SHOP}/web/b.py", f"{SHOP}/web/Dockerfile")
    assert p.rebuilds["web"].endswith("(+2 more)")


def test_watch_roots_are_the_used_contexts(project):
    app, specs = project
    roots = watch_roots(app, specs)
    assert app.images["base"].context in roots and app.images["web"].context in roots
    assert watch_roots(app, []) == []


# -- rule matching details ------------------------------------------------------------------------

def test_most_specific_rule_wins_and_globs_map_below_their_fixed_prefix():
    broad = WatchRule("src", "sync", "/app")
    narrow = WatchRule("src/static", "sync", "/var/www")
    glob = WatchRule("src/**/*.css", "sync", "/css")
    assert matching_rule([broad, narrow], "src/static/a.js") is narrow
    assert matching_rule([broad], "srcx/a.js") is None
    assert matching_rule([glob], "src/themes/dark.css") is glob
    assert container_path(glob, "src/themes/dark.css") == "/css/themes/dark.css"
    assert container_path(narrow, "src/static") == "/var/www"


def test_rule_ignore_patterns_are_relative_to_the_rule(sample: Path):
    proj, _ = load_project(sample)
    app = proj.app
    rule = WatchRule(f"{SHOP}/web/static", "sync", "/s", ignore=("node_modules/", "*.map"))
    comps = dict(app.components)
    comps["web"] = type(comps["web"])(**{**comps["web"].__dict__, "watch": (rule,)})
    app2 = type(app)(**{**app.__dict__, "components": comps})
    specs = [resolve(type(proj)(app2, proj.profiles, proj.overlay), "acme")]
    changes: dict[Path, ChangeKind] = {
        app.root / f"{SHOP}/web/static/node_modules/x/i.js": "modified",
        app.root / f"{SHOP}/web/static/app.js.map": "modified",
        app.root / f"{SHOP}/web/static/app.js": "modified",
    }
    p = plan_changes(app2, specs, changes, is_ignored=never_ignored)
    assert [f[1] for s in p.syncs for f in s.files] == ["/s/app.js"]
    assert len(p.ignored) == 2


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt", "package-lock.json", "go.sum",
                                  "Gemfile.lock", "Cargo.toml", "poetry.lock", "pyproject.toml"])
def test_dependency_manifests(name: str):
    assert is_dependency_manifest(name)


@pytest.mark.parametrize("name", ["views.py", "requirements.py", "package.jsonx"])
def test_not_dependency_manifests(name: str):
    assert not is_dependency_manifest(name)


@pytest.mark.parametrize("rel", ["a/.b.py.swp", "a/b.py~", "a/.#b.py", "4913", ".DS_Store", "x.tmp",
                                 "a/b.py___jb_tmp___", "a/b.py___jb_old___", ".git/HEAD", "a/__pycache__",
                                 "m.pyc", "#b.py#"])
def test_noise(rel: str):
    assert noise_reason(rel) is not None


@pytest.mark.parametrize("rel", ["a/b.py", "swp.py", "templates/index.html", ".dockerignore", "gitlog.txt"])
def test_not_noise(rel: str):
    assert noise_reason(rel) is None


def test_dockerignore_cache_sees_edits(tmp_path: Path):
    cache = DockerIgnoreCache(recheck=0)
    assert not cache(tmp_path, "a.log")
    (tmp_path / ".dockerignore").write_text("*.log\n")
    assert cache(tmp_path, "a.log")
    (tmp_path / ".dockerignore").write_text("*.txt\n\n")
    assert not cache(tmp_path, "a.log")


def test_dockerignore_cache_invalidate_rereads_at_once(tmp_path: Path):
    cache = DockerIgnoreCache(recheck=3600)
    assert not cache(tmp_path, "a.log")
    (tmp_path / ".dockerignore").write_text("*.log\n")
    assert not cache(tmp_path, "a.log")  # within the recheck period: no disk access
    cache.invalidate(tmp_path)
    assert cache(tmp_path, "a.log")


def test_dockerignore_cache_prunes_only_without_exceptions(tmp_path: Path):
    cache = DockerIgnoreCache(recheck=0)
    (tmp_path / ".dockerignore").write_text("build\n")
    assert cache.prunable(tmp_path, "build")
    (tmp_path / ".dockerignore").write_text("build\n!build/keep.txt\n")
    assert not cache.prunable(tmp_path, "build")


@pytest.mark.parametrize("state", ["bad-pattern", "fifo"])
def test_a_broken_dockerignore_never_crashes_the_watcher(tmp_path: Path, state: str) -> None:
    """Saving a ``.dockerignore`` with ``[]`` in it, or a FIFO in its place, raised out of the
    watcher's ignore check; it now excludes nothing (the next build names the line)."""
    import os

    if state == "fifo":
        os.mkfifo(tmp_path / ".dockerignore")
    else:
        (tmp_path / ".dockerignore").write_text("*.log\n[]\n")
    ignored = DockerIgnoreCache()
    assert ignored(tmp_path, "app.log") is False and ignored(tmp_path, "src/app.py") is False
