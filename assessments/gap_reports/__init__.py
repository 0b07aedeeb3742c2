"""Team gap reports: batch computation by Celery workers, stored runs, exports, the benchmark."""
