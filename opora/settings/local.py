"""The embedded default: SQLite under var/, in-memory channel layer, tasks without a server."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, VAR_DIR, env_bool

# Django's debug pages only when the developer asks for them (OPORA_DEBUG=1); `make run` is also how
# a demo is shown to others, who get the ordinary error pages.
DEBUG = env_bool("OPORA_DEBUG", False)
# A fixed development key only for the embedded default; production refuses to start without one.
SECRET_KEY = SECRET_KEY or "opora-local-development-key-not-for-production"  # noqa: S105
VAR_DIR.mkdir(parents=True, exist_ok=True)
