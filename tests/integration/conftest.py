"""Fixtures shared by the integration tests."""

from tests.integration.test_faults import make_tiny  # noqa: F401  (a fixture: tiny synthetic projects)
