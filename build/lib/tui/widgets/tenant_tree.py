"""The tenant -> component tree: the source of truth for state, and the selection.

The highlighted node scopes the log pane; space marks several tenants or components and then the
marks scope it instead (the most requested thing in k9s and lazydocker). Marking a tenant marks all
its components, including ones that appear later.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from devenv.engine.state import ComponentView, State
from tui.format import component_label, tenant_label
from tui.logstore import Key, Scope


@dataclass(frozen=True)
class Target:
    """What a key acts on: a tenant, or one component of it."""

    tenant: str
    component: str | None = None


class TenantTree(Tree[Target]):
    BINDINGS = [Binding("space", "toggle_mark", "Mark", show=False)]

    class ScopeChanged(Message):
        """The set of logs to show changed (cursor moved, or marks changed)."""

        def __init__(self, scope: Scope) -> None:
            super().__init__()
            self.scope = scope

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("tenants", id=id)
        self.show_root = False
        self.guide_depth = 2
        self.marked_tenants: set[str] = set()
        self.marked: set[Key] = set()
        self._tenant_nodes: dict[str, TreeNode[Target]] = {}
        self._component_nodes: dict[Key, TreeNode[Target]] = {}
        self._state = State()
        self._last_scope: Scope | None = None

    # -- state -------------------------------------------------------------------------------
    def show_state(self, state: State, tenants: list[str]) -> None:
        """Add any new tenants/components, then relabel every node (cheap: a few dozen)."""
        self._state = state
        for name in [*tenants, *state.tenants]:
            self._ensure_tenant(name)
        for key in state.components:
            self._ensure_component(key)
        self._relabel()

    def _ensure_tenant(self, tenant: str) -> TreeNode[Target]:
        node = self._tenant_nodes.get(tenant)
        if node is None:
            node = self.root.add(tenant, data=Target(tenant), expand=True)
            self._tenant_nodes[tenant] = node
        return node

    def _ensure_component(self, key: Key) -> None:
        if key not in self._component_nodes:
            parent = self._ensure_tenant(key[0])
            self._component_nodes[key] = parent.add_leaf(key[1], data=Target(*key))

    def _name_width(self) -> int:
        return max([8, *(len(c) for _, c in self._component_nodes)])

    def _relabel(self) -> None:
        width = self._name_width()
        for name, node in self._tenant_nodes.items():
            node.set_label(tenant_label(self._state, name, name in self.marked_tenants))
        for key, node in self._component_nodes.items():
            view = self._state.components.get(key) or ComponentView(*key)
            node.set_label(component_label(self._state, view, self._is_marked(key), width))

        self.call_after_refresh(self._fit_width)

    def _fit_width(self) -> None:
        """The tree is as wide as its widest line (plus border and scrollbar), within the CSS
        min/max: a short project leaves the logs the room, a long name is not cut."""
        scrollbar = 1 if self.virtual_size.height > self.size.height else 0
        want = self.virtual_size.width + 2 + scrollbar
        if self.styles.width is None or self.styles.width.value != want:
            self.styles.width = want

    def _is_marked(self, key: Key) -> bool:
        return key in self.marked or key[0] in self.marked_tenants

    # -- selection ---------------------------------------------------------------------------
    @property
    def target(self) -> Target | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def marked_targets(self) -> list[Target]:
        return [Target(t) for t in sorted(self.marked_tenants)] + [
            Target(t, c) for t, c in sorted(self.marked) if t not in self.marked_tenants]

    def scope(self) -> Scope:
        if self.marked or self.marked_tenants:
            return Scope(frozenset(self.marked_tenants), frozenset(self.marked))
        target = self.target
        if target is None:
            return Scope(frozenset(self._tenant_nodes))
        if target.component is None:
            return Scope(frozenset({target.tenant}))
        return Scope(keys=frozenset({(target.tenant, target.component)}))

    def action_toggle_mark(self) -> None:
        target = self.target
        if target is None:
            return
        if target.component is None:
            self._toggle_tenant(target.tenant)
        else:
            key = (target.tenant, target.component)
            if key[0] in self.marked_tenants:  # unmark one component of a marked tenant
                self.marked_tenants.discard(key[0])
                self.marked |= {k for k in self._component_nodes if k[0] == key[0] and k != key}
            else:
                self.marked ^= {key}
        self._relabel()
        self._announce()

    def _toggle_tenant(self, tenant: str) -> None:
        if tenant in self.marked_tenants:
            self.marked_tenants.discard(tenant)
        else:
            self.marked_tenants.add(tenant)
        self.marked = {k for k in self.marked if k[0] != tenant}

    def clear_marks(self) -> bool:
        """Drop every mark; False when there was none (so esc can fall through)."""
        if not (self.marked or self.marked_tenants):
            return False
        self.marked.clear()
        self.marked_tenants.clear()
        self._relabel()
        self._announce()
        return True

    def next_tenant(self) -> None:
        names = list(self._tenant_nodes)
        if not names:
            return
        current = self.target.tenant if self.target else names[-1]
        nxt = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
        self.move_cursor(self._tenant_nodes[nxt])

    def move_to(self, tenant: str, component: str | None = None) -> None:
        node = self._component_nodes.get((tenant, component)) if component else self._tenant_nodes.get(tenant)
        if node is not None:
            self.move_cursor(node)

    def _announce(self) -> None:
        scope = self.scope()
        if scope != self._last_scope:
            self._last_scope = scope
            self.post_message(self.ScopeChanged(scope))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Target]) -> None:
        event.stop()
        self._announce()
