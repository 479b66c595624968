"""worker: completes the jobs api and scheduler enqueue."""
