"""The watch layer: file events in, explained plans out.

* ``observer.Watcher``: one watchdog observer over every used build context; drops editor/VCS noise
  and ``.dockerignore``d paths; hands batches to ``on_batch`` on the coalescer's thread.
* ``coalesce.Coalescer``: quiet-period / max-wait batching and per-path kind merging.
* ``mapping.plan_changes``: pure; a batch -> syncs, rebuilds (with dependents), redeploys, and a
  reason for every path nothing happens to.
* ``initial.changed_since``: files edited while devenv was stopped, for a resync on start.

Nothing is imported here, so the engine can import the pure ``mapping`` without loading watchdog.
"""
