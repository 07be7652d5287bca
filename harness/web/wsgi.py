"""The process entry point of gunicorn (`harness.web.wsgi:app`): the one place that reads the
environment; a bad setting stops start-up with one line."""

import sys

from harness.errors import CatalogError, SettingsError
from harness.web import create_app

try:
    app = create_app()
except (SettingsError, CatalogError) as error:
    sys.stderr.write(f"harness: {error}\n")
    sys.exit(4)  # gunicorn's "app failed to load": the arbiter stops instead of looping
