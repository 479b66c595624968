"""shoplib: what every shop component shares.

Importing the package stays cheap and dependency-free (the database and Redis drivers are imported
only when a connection is opened), so the pure parts can be unit-tested without the drivers.
"""

from __future__ import annotations

from shoplib.config import Settings, features_from_env
from shoplib.log import Logger
from shoplib.runtime import Stopped, Stopper, backoff_delays, retry

__all__ = ["Logger", "Settings", "Stopped", "Stopper", "backoff_delays", "features_from_env", "retry"]
