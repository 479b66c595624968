"""The log pane: the scoped, filtered, followed tail of every marked tenant and component.

It reads from the app's bounded ``LogStore`` and shows it in Textual's ``Log`` (virtualised: only
visible lines render, and ``max_lines`` caps what it holds). New lines arrive in batches from the
app's flush timer and are written in one call, so a flood costs one repaint per tick (tilt#1379).
"""

from __future__ import annotations

from datetime import tzinfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Log

from tui.format import log_prefix, parse_structured, structured_text
from tui.logstore import LogRecord, LogStore, Matcher, Scope, compile_filter

VIEW_LINES = 10_000


def scope_title(scope: Scope) -> str:
    """``acme / web, api``; a whole tenant reads ``acme (all)``."""
    parts = [f"{t} (all)" for t in sorted(scope.tenants)]
    by_tenant: dict[str, list[str]] = {}
    for t, c in sorted(scope.keys):
        if t not in scope.tenants:
            by_tenant.setdefault(t, []).append(c)
    parts += [f"{t} / {', '.join(cs)}" for t, cs in by_tenant.items()]
    return "; ".join(parts) or "nothing selected"


class FilterInput(Input):
    """The ``/`` box; escape clears the filter and gives focus back."""

    BINDINGS = [Binding("escape", "dismiss", "Clear filter", show=False)]

    def action_dismiss(self) -> None:
        pane = self.parent
        if isinstance(pane, LogPane):
            pane.set_filter("")
            pane.hide_filter_input()


class LogPane(Vertical):
    def __init__(self, store: LogStore, *, tz: tzinfo | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.tz = tz
        self.scope = Scope()
        self.pattern = ""
        self.follow = True
        self.raw = False  # JSON lines as the app wrote them, instead of level, message, key=value
        self._match: Matcher | None = None
        self.view_lines = min(VIEW_LINES, store.total)

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder="filter (regex or text); enter keeps it, esc clears", id="filter")
        yield Log(max_lines=self.view_lines, highlight=False, auto_scroll=True, id="log")

    def on_mount(self) -> None:
        self.hide_filter_input()
        self._retitle()

    @property
    def log_widget(self) -> Log:
        return self.query_one("#log", Log)

    # -- what to show ------------------------------------------------------------------------
    def set_scope(self, scope: Scope) -> None:
        if scope != self.scope:
            self.scope = scope
            self.rerender()

    def set_filter(self, pattern: str) -> None:
        if pattern != self.pattern:
            self.pattern = pattern
            self._match = compile_filter(pattern)
            self.rerender()

    def toggle_follow(self) -> bool:
        self.follow = not self.follow
        self.log_widget.auto_scroll = self.follow
        if self.follow:
            self.log_widget.scroll_end(animate=False)
        self._retitle()
        return self.follow

    def toggle_raw(self) -> bool:
        self.raw = not self.raw
        self.rerender()
        return self.raw

    def rerender(self) -> None:
        """Rebuild the view from the store (scope or filter changed): one clear, one write."""
        log = self.log_widget
        log.clear()
        self._write(self.store.view(self.scope, self._match, limit=self.view_lines))
        self._retitle()

    def append(self, records: list[LogRecord]) -> None:
        """New lines from the flush timer; keeps those in scope and matching the filter."""
        match = self._match
        shown = [r for r in records if (r.tenant, r.component) in self.scope and (match is None or match(r.line))]
        if shown:
            self._write(shown)

    def _write(self, records: list[LogRecord]) -> None:
        if not records:
            return
        many = len(self.scope.tenant_names()) > 1
        width = self._prefix_width(many)
        lines = [self._line(r, width, many) for r in records]
        self.log_widget.write_lines(lines, scroll_end=self.follow)

    def _line(self, r: LogRecord, width: int, many: bool) -> str:
        """One timestamp (the app's own when its JSON line has one), who said it, then the line:
        a JSON line as level, message and key=value pairs unless the raw view is on."""
        parsed = None if self.raw else parse_structured(r.line)
        if parsed is None:
            return log_prefix(r.ts, r.tenant, r.component, width, many, self.tz) + r.line
        known = {"tenant": r.tenant, "component": r.component}
        return (log_prefix(parsed.ts or r.ts, r.tenant, r.component, width, many, self.tz)
                + structured_text(parsed, known))

    def _prefix_width(self, many: bool) -> int:
        """One width for every component in scope, so columns line up across batches."""
        names = [f"{t}/{c}" if many else c for t, c in self.store.components() if (t, c) in self.scope]
        return max([8, *map(len, names)])

    def _retitle(self) -> None:
        title = f"logs: {scope_title(self.scope)}"
        title += "  (follow)" if self.follow else "  (paused)"
        title += "  (raw)" if self.raw else ""
        if self.pattern:
            title += f"  / filter: {self.pattern}"
        self.border_title = title

    # -- filter box --------------------------------------------------------------------------
    def show_filter_input(self) -> None:
        box = self.query_one(FilterInput)
        box.display = True
        box.value = self.pattern
        box.focus()

    def hide_filter_input(self) -> None:
        box = self.query_one(FilterInput)
        had_focus = box.has_focus
        box.display = False
        if had_focus:
            self.log_widget.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_filter(event.value)
        self.hide_filter_input()
