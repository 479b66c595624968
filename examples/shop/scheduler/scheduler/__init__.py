"""scheduler: enqueues a report job every SCHEDULE_INTERVAL seconds."""
