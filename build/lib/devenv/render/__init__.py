"""Pure renderers: a resolved ``TenantSpec`` in, plain data out (golden-tested, no I/O).

* ``yamldump``: the one stable YAML writer (order kept, ambiguous strings quoted, no anchors).
* ``compose``: a tenant as a compose file (plus ``load_fragments``, the only I/O, kept apart).
* ``kube``: a tenant as Kubernetes manifests, for kind (``local``) or as production runs it.
* ``kind_cluster``: the kind cluster whose node labels place every tenant as production does.
"""
