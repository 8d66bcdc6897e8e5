"""``clawgym view``: a local web page to browse, step through and compare evaluation runs.

:mod:`clawgym_env.viewer.data` turns records into what the page shows; :mod:`clawgym_env.viewer.server`
serves it with the static page in ``static/`` on 127.0.0.1 (standard library only, works offline).
"""

VIEWER_PORT = 8765
"""The port ``clawgym view`` listens on unless told otherwise; the eval report's links point at it."""
VIEWER_URL = f"http://127.0.0.1:{VIEWER_PORT}/"
