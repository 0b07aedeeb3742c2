"""Celery tasks of this feature (discovered by config.celery_app)."""
