"""The small test override: the same settings in ``test`` mode (pytest uses this module)."""

import os

os.environ["TSHAPE_ENV"] = "test"

from .settings import *  # noqa: E402,F403
