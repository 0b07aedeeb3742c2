"""What every access matrix shares: the personas in order, and how a row's expectations are written.

(No tests here; the matrix modules ``tests/test_*_access.py`` import it.)
"""

ROLES = [
    "anonymous",
    "manager",
    "outsider",
    "supervisor",
    "city_head",
    "outsider_supervisor",
    "hr",
    "admin",
]
SIGNED_IN = [r for r in ROLES if r != "anonymous"]


def only(allowed: dict, default: int = 403, anonymous: int = 302) -> dict:
    """The ``allowed`` roles' statuses as given, ``default`` for every other signed-in persona, and
    ``anonymous`` (sent to sign in, on pages) for a visitor who is not signed in."""
    return {r: allowed.get(r, default) for r in SIGNED_IN} | {"anonymous": anonymous}
