"""The notes web app: lists notes from Redis and queues new ones for the worker."""
