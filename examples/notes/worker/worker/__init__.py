"""The notes worker: takes queued notes from Redis and files them, upper-cased."""
