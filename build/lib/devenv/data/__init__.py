"""Tenant data: snapshots of a tenant's volumes, restore, SQL loads with masking, and seeds.

``store`` keeps snapshots under ``.devenv/snapshots/<tenant>/<name>/`` (owner-only, written
through a staging directory so a half-written snapshot never shows up in ``devenv data list``);
``compose`` reads and writes the tenant's named volumes through the engine's archive API;
``mask`` turns a rule file into SQL that runs inside the database; ``load`` streams a dump in.
Every operation names one tenant and touches only volumes and containers labelled with it.
"""
