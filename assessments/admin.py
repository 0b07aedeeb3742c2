from .profiles import admin as _profiles_admin  # noqa: F401
