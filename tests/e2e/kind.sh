#!/usr/bin/env bash
# End-to-end check of the kind backend on a machine that has kind (a laptop; not CI here).
#
#   tests/e2e/kind.sh            # runs the whole flow, deletes the cluster at the end
#   KEEP=1 tests/e2e/kind.sh     # leaves the cluster running for a look around
#
# What it proves, that the contract tests cannot: the cluster really comes up from the rendered
# config, images reach the nodes, each tenant answers on its 127.0.0.1 URL, pods land on nodes whose
# labels match the tenant's node selector, NetworkPolicy keeps tenants apart, and teardown is scoped
# to one tenant and to namespaces devenv labelled, and a tenant's data snapshot and restore through
# helper pods (docs/data.md "On kind") leaves the other tenant's data alone.
# Where kind is absent it prints "SKIP: kind not found" and exits 0.
set -euo pipefail

if ! command -v kind >/dev/null 2>&1; then
  echo "SKIP: kind not found (install: go install sigs.k8s.io/kind@v0.24.0, or see docs/kind.md)"
  exit 0
fi
command -v kubectl >/dev/null 2>&1 || { echo "FAIL: kubectl not found (see docs/kind.md)"; exit 1; }

here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
PY=${PYTHON:-$here/.venv/bin/python}
devenv() { "$PY" -m devenv.cli "$@"; }
CLUSTER=devenv-shop
CTX=kind-$CLUSTER
k() { kubectl --context "$CTX" "$@"; }
step() { printf '\n== %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  k get nodes --show-labels >&2 || true
  k get pods -A -o wide >&2 || true
  k get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -30 >&2 || true
  exit 1
}
cleanup() {
  if [ "${KEEP:-}" != 1 ]; then devenv down --backend kind --cluster >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# Tenant facts from devenv's own resolver: "<tenant> <namespace> <selector k=v,...> <port> ..."
facts() {
  "$PY" - "$@" <<'EOF'
import sys
from devenv.model import load_project, resolve
project, _ = load_project()
for t in sys.argv[1:]:
    s = resolve(project, t)
    sel = ",".join(f"{k}={v}" for k, v in sorted(s.node_selector.items())) or "-"
    ports = [str(p.host) for w in s.workloads.values() for p in w.ports if p.http]
    print(t, s.namespace, sel, *ports)
EOF
}

step "devenv doctor --backend kind"
devenv doctor --backend kind || fail "doctor reports a failure"

step "up: acme and globex on kind"
devenv up --backend kind --tenant acme,globex --detach --no-tui || fail "devenv up --backend kind"
k get nodes --show-labels

step "every HTTP URL answers on 127.0.0.1"
while read -r tenant ns sel ports; do
  for port in $ports; do
    curl -fsS --max-time 5 --retry 30 --retry-delay 2 --retry-all-errors "http://127.0.0.1:$port/healthz" >/dev/null \
      || fail "$tenant: http://127.0.0.1:$port/healthz does not answer"
    echo "ok $tenant http://127.0.0.1:$port/"
  done
done < <(facts acme globex)

step "pods landed on nodes whose labels match the tenant's node selector"
while read -r tenant ns sel _ports; do
  k get pods -n "$ns" -o wide
  [ "$sel" = - ] && continue
  allowed=$(k get nodes -l "$sel" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
  [ -n "$allowed" ] || fail "$tenant: no node carries $sel"
  while read -r pod node; do
    [ -n "$pod" ] || continue
    grep -qx "$node" <<<"$allowed" || fail "$tenant: pod $pod runs on $node, which lacks $sel"
  done < <(k get pods -n "$ns" -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}')
  echo "ok $tenant: every pod on a node with $sel"
done < <(facts acme globex)

step "NetworkPolicy: a tenant reaches its own services, not another tenant's"
# The sample's images have python3 (not necessarily curl); try curl first, then python3.
probe() {  # probe <namespace> <url>: exit 0 when the URL answers from inside the namespace's web pod
  k exec -n "$1" deploy/web -- sh -c \
    "curl -fsS --max-time 5 -o /dev/null '$2' 2>/dev/null || python3 -c \"import urllib.request; urllib.request.urlopen('$2', timeout=5)\"" \
    >/dev/null 2>&1
}
kind_minor=$(kind version | sed -E 's/^kind v0\.([0-9]+).*/\1/')
probe tenant-acme "http://api:8000/healthz" || fail "acme's web cannot reach acme's own api (the probe itself is broken)"
if [ "${kind_minor:-0}" -lt 24 ]; then
  echo "SKIP (NetworkPolicy): kind < 0.24's default CNI does not enforce NetworkPolicy"
else
  if probe tenant-acme "http://api.tenant-globex.svc.cluster.local:8000/healthz"; then
    fail "acme's web reached globex's api: NetworkPolicy does not isolate tenants"
  fi
  echo "ok cross-namespace traffic is blocked"
fi

step "data: snapshot acme, change it, restore it; globex keeps its own changes"
pg() { k exec -n "$1" deploy/postgres -c postgres -- psql -X -qtA -v ON_ERROR_STOP=1 -U shop -d shop -c "$2"; }
pg tenant-acme "CREATE TABLE e2e(n int); INSERT INTO e2e VALUES (1), (2), (3);" || fail "psql in acme"
pg tenant-globex "CREATE TABLE e2e(n int); INSERT INTO e2e VALUES (7);" || fail "psql in globex"
devenv data snapshot --backend kind --tenant acme e2e || fail "devenv data snapshot --backend kind"
devenv data list --json | "$PY" -c 'import json, sys; assert any(s["backend"] == "kind" and s["name"] == "e2e" for s in json.load(sys.stdin))' \
  || fail "data list --json does not show acme's kind snapshot"
pg tenant-acme "DROP TABLE e2e;"
pg tenant-globex "INSERT INTO e2e VALUES (8);"
devenv data restore --backend kind --tenant acme e2e --yes || fail "devenv data restore --backend kind"
[ "$(pg tenant-acme 'SELECT count(*) FROM e2e')" = 3 ] || fail "acme's rows did not come back"
[ "$(pg tenant-globex 'SELECT count(*) FROM e2e')" = 2 ] || fail "globex's data changed"
[ -z "$(k get pods -A -l dev.devenv.data-helper -o name)" ] || fail "a data helper pod was left behind"
devenv data rm --tenant acme e2e
echo "ok acme restored, globex untouched"

step "down refuses a namespace devenv did not create"
k create namespace tenant-initech
if devenv down --backend kind --tenant initech --volumes; then fail "devenv deleted an unlabelled namespace"; fi
k get namespace tenant-initech >/dev/null || fail "the unlabelled namespace is gone"
k delete namespace tenant-initech --wait=false

step "down --tenant acme leaves globex"
devenv down --backend kind --tenant acme || fail "devenv down --tenant acme"
[ -z "$(k get deploy -n tenant-acme -o name)" ] || fail "acme's deployments are still there"
k get pvc -n tenant-acme -o name | grep -q . || fail "acme's volume claims went without --volumes"
devenv down --backend kind --tenant acme --volumes || fail "devenv down --tenant acme --volumes"
if k get namespace tenant-acme -o jsonpath='{.status.phase}' 2>/dev/null | grep -qx Active; then
  fail "namespace tenant-acme is still active after down --volumes"
fi
read -r _t _ns _sel gport _rest < <(facts globex)
curl -fsS --max-time 5 "http://127.0.0.1:$gport/healthz" >/dev/null || fail "globex stopped answering after acme went down"
echo "ok globex still answers"

step "down --cluster"
if [ "${KEEP:-}" = 1 ]; then echo "KEEP=1: leaving $CLUSTER running"; exit 0; fi
devenv down --backend kind --cluster || fail "devenv down --cluster"
if kind get clusters | grep -qx "$CLUSTER"; then fail "cluster $CLUSTER still exists"; fi
trap - EXIT
echo "PASS: kind end-to-end"
