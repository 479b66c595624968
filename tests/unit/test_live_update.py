"""Live updates inferred from the Dockerfile's tail: what the planner infers from the sample's real
Dockerfiles, what it refuses to infer, and the record ``devenv status`` reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devenv.engine.live import (
    DockerfileTails,
    clear_live,
    read_live,
    read_tail,
    record_live,
    synced_note,
)
from devenv.model.loader import load_project
from devenv.model.resolve import resolve
from devenv.model.types import App, TenantSpec
from devenv.watch.ignore import never_ignored
from devenv.watch.mapping import ChangeKind, ChangePlan, LiveTail, TailCopy, infer_dests, plan_changes

SHOP = "examples/shop"
STATIC_RULE = "      - {path: examples/shop/web/static, action: sync, target: /srv/web/static}\n"


def load(root: Path, replace: tuple[str, str] | None = None) -> tuple[App, list[TenantSpec]]:
    yaml_file = root / "devenv.yaml"
    text = yaml_file.read_text()
    assert STATIC_RULE in text
    text = text.replace(STATIC_RULE, "", 1)  # static/ falls under no rule: only the Dockerfile says where
    if replace:
        assert replace[0] in text
        text = text.replace(*replace, 1)
    yaml_file.write_text(text)
    proj, _ = load_project(root)
    return proj.app, [resolve(proj, t) for t in ("acme", "globex")]


def plan(project: tuple[App, list[TenantSpec]], *paths: str, kind: ChangeKind = "modified") -> ChangePlan:
    app, specs = project
    return plan_changes(app, specs, {app.root / p: kind for p in paths}, is_ignored=never_ignored,
                        tail_of=DockerfileTails())


def test_the_web_dockerfile_tail_is_read_with_absolute_destinations(sample: Path):
    app, _ = load(sample)
    tail = read_tail(app.images["web"])
    assert tail is not None
    assert [(c.sources, c.dest) for c in tail.copies] == [
        (("templates",), "/srv/web/templates"), (("static",), "/srv/web/static"), (("web",), "/srv/web/web")]
    assert tail.copies[1].where == "Dockerfile:12 COPY static ./static"
    assert tail.head_sources == ("requirements.txt",)


def test_a_file_only_the_tail_takes_in_is_synced_and_restarted_not_rebuilt(sample: Path):
    p = plan(load(sample), f"{SHOP}/web/static/version.txt")
    assert p.rebuilds == {} and p.redeploys == {}
    [sync] = p.syncs
    assert sync.component == "web" and sync.tenants == ("acme", "globex")
    assert sync.files == [(sample / f"{SHOP}/web/static/version.txt", "/srv/web/static/version.txt")]
    assert sync.then_restart and sync.inferred == "Dockerfile:12 COPY static ./static"
    assert list(p.live_builds) == ["web"]
    assert "the next up is exact" in p.live_builds["web"]


def test_a_deleted_file_below_a_tail_directory_is_deleted_live(sample: Path):
    [sync] = plan(load(sample), f"{SHOP}/web/static/old.css", kind="deleted").syncs
    assert sync.files == [(None, "/srv/web/static/old.css")]


def test_explicit_sync_rules_still_win(sample: Path):
    [sync] = plan(load(sample), f"{SHOP}/web/templates/index.html").syncs
    assert sync.inferred == "" and not sync.then_restart


def test_an_explicit_rebuild_rule_still_rebuilds_and_recreates(sample: Path):
    rule = "      - {path: examples/shop/web/static, action: rebuild}\n"
    p = plan(load(sample, ("      - {path: examples/shop/web/requirements.txt", rule + "      - {path: examples/shop/web/requirements.txt")),
             f"{SHOP}/web/static/version.txt")
    assert p.syncs == [] and p.live_builds == {}
    assert p.rebuilds == {"web": "version.txt changed (rule rebuild)"}
    assert p.redeploys == {"web": ("acme", "globex")}


def test_a_file_no_copy_takes_in_still_rebuilds(sample: Path):
    p = plan(load(sample), f"{SHOP}/web/gunicorn.conf.py")
    assert p.syncs == [] and p.live_builds == {}
    assert p.rebuilds == {"web": f"no sync rule of web covers {SHOP}/web/gunicorn.conf.py"}


def test_a_change_above_the_tail_in_the_same_batch_supersedes_the_live_update(sample: Path):
    p = plan(load(sample), f"{SHOP}/web/static/version.txt", f"{SHOP}/web/Dockerfile")
    assert p.syncs == [] and p.live_builds == {}
    assert list(p.rebuilds) == ["web"]
    assert [path.name for path, _ in p.superseded] == ["version.txt"]


def test_a_component_that_reloads_is_synced_without_a_restart(sample: Path):
    project = load(sample, ("  web:\n    image: web\n", "  web:\n    image: web\n    live_update: reload\n"))
    [sync] = plan(project, f"{SHOP}/web/static/version.txt").syncs
    assert not sync.then_restart and sync.inferred


def test_live_update_rebuild_rebuilds_as_before(sample: Path):
    project = load(sample, ("  web:\n    image: web\n", "  web:\n    image: web\n    live_update: rebuild\n"))
    p = plan(project, f"{SHOP}/web/static/version.txt")
    assert p.syncs == [] and list(p.rebuilds) == ["web"]


def test_a_base_image_is_not_live_updated(sample: Path):
    """No container runs the base itself; its children are rebuilt on it, as before."""
    p = plan(load(sample), f"{SHOP}/base/shoplib/money.py")
    assert p.syncs == [] and "base" in p.rebuilds


def copy(sources: tuple[str, ...], dest: str, as_dir: bool = False) -> TailCopy:
    return TailCopy(sources, dest, as_dir, f"Dockerfile:9 COPY {' '.join(sources)} {dest}")


@pytest.mark.parametrize(("tail", "rel", "deleted", "want"), [
    (LiveTail((copy(("",), "/app"),), ()), "src/a.py", False, ["/app/src/a.py"]),
    (LiveTail((copy(("app.py",), "/srv/", True),), ()), "app.py", False, ["/srv/app.py"]),
    (LiveTail((copy(("app.py",), "/srv/main.py"),), ()), "app.py", False, ["/srv/main.py"]),
    (LiveTail((copy(("a.py", "b.py"), "/srv"),), ()), "b.py", False, ["/srv/b.py"]),
    (LiveTail((copy(("app.py",), "/srv/main.py"),), ()), "app.py", True, []),  # the build would fail
    (LiveTail((copy(("src",), "/app"),), ("src",)), "src/a.py", False, []),  # above the tail too
    (LiveTail((copy(("src",), "/app"),), ("*.txt",)), "src/a.py", False, []),  # a pattern above: unsure
    (LiveTail((copy(("*.py",), "/app/"),), ()), "a.py", False, []),  # patterns are the builder's
    (LiveTail((copy(("src",), "/app"), copy(("src",), "/copy")), ()), "src/a", False, ["/app/a", "/copy/a"]),
    (LiveTail((copy(("src",), "/app"),), ()), "srcx/a.py", False, []),
])
def test_infer_dests(tail: LiveTail, rel: str, deleted: bool, want: list[str]):
    assert [dest for _c, dest in infer_dests(tail, rel, deleted)] == want


def test_tails_are_reread_when_the_dockerfile_changes(tmp_path: Path, sample: Path):
    app, _ = load(sample)
    img = app.images["web"]
    tails = DockerfileTails()
    first = tails(img)
    assert first is not None and tails(img) is first  # cached
    text = img.dockerfile.read_text().replace("COPY web ./web", "COPY web /opt/web")
    img.dockerfile.write_text(text)
    st = img.dockerfile.stat()
    os.utime(img.dockerfile, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = tails(img)
    assert second is not None and second.copies[2].dest == "/opt/web"


def test_relative_destinations_need_a_fixed_workdir(tmp_path: Path, sample: Path):
    app, _ = load(sample)
    img = app.images["web"]
    img.dockerfile.write_text(img.dockerfile.read_text().replace("WORKDIR /srv/web", "WORKDIR $HOME"))
    assert read_tail(img) is None  # unknowable: no inference, the change rebuilds


def test_the_record_says_which_containers_run_synced_content(tmp_path: Path):
    record_live(tmp_path, "acme", "web", "shop-web:old", "shop-web:new", "Dockerfile:12 COPY static ./static",
                ["/srv/web/static/version.txt"])
    entry = read_live(tmp_path, "acme")["web"]
    note = synced_note(entry, "shop-web:old")
    assert "synced 1 file(s) live (Dockerfile:12 COPY static ./static)" in note and "shop-web:new" in note
    assert synced_note(entry, "shop-web:new") == ""  # recreated since: it runs the image, nothing synced
    record_live(tmp_path, "acme", "web", "shop-web:old", "shop-web:newer", "Dockerfile:12 COPY static ./static",
                ["/srv/web/static/a.css"])
    assert read_live(tmp_path, "acme")["web"]["files"] == ["/srv/web/static/a.css", "/srv/web/static/version.txt"]
    clear_live(tmp_path, "acme", ["web"])
    assert read_live(tmp_path, "acme") == {}


def test_an_edit_undone_leaves_nothing_synced(tmp_path: Path):
    record_live(tmp_path, "acme", "web", "shop-web:old", "shop-web:old", "x", ["/a"])
    assert read_live(tmp_path, "acme") == {}



def test_a_file_the_dockerfile_takes_in_above_the_tail_rebuilds_and_says_why(sample: Path):
    dockerfile = sample / SHOP / "web" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("COPY requirements.txt ./\n",
                                                         "COPY requirements.txt ./\nCOPY gunicorn.conf.py ./\n"))
    p = plan(load(sample), f"{SHOP}/web/gunicorn.conf.py")
    assert p.syncs == [] and p.rebuilds == {"web": f"no sync rule of web covers {SHOP}/web/gunicorn.conf.py (an "
                                                   "instruction above the Dockerfile's trailing COPYs takes it in)"}


def test_live_update_rebuild_gives_the_plain_reason(sample: Path):
    project = load(sample, ("  web:\n    image: web\n", "  web:\n    image: web\n    live_update: rebuild\n"))
    assert plan(project, f"{SHOP}/web/static/version.txt").rebuilds == {
        "web": f"no sync rule of web covers {SHOP}/web/static/version.txt"}


def test_the_inferred_rule_names_the_copied_directory_and_its_destination(sample: Path):
    [sync] = plan(load(sample), f"{SHOP}/web/static/version.txt").syncs
    assert (sync.rule.path, sync.rule.action, sync.rule.target) == (f"{SHOP}/web/static", "sync+restart",
                                                                    "/srv/web/static")


def test_the_inferred_rule_of_a_reloading_component_only_syncs(sample: Path):
    project = load(sample, ("  web:\n    image: web\n", "  web:\n    image: web\n    live_update: reload\n"))
    [sync] = plan(project, f"{SHOP}/web/static/version.txt").syncs
    assert sync.rule.action == "sync"


def test_a_whole_copied_directory_deleted_rebuilds(sample: Path):
    p = plan(load(sample), f"{SHOP}/web/static", kind="deleted")
    assert p.syncs == [] and list(p.rebuilds) == ["web"]
