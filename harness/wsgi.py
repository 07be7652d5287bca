"""The process entry point of gunicorn (`harness.wsgi:app`): the one place that reads the
environment; a bad setting stops start-up with one line."""

import sys

from harness import create_app
from harness.errors import CatalogError, SettingsError

try:
    app = create_app()
except (SettingsError, CatalogError) as error:
    sys.stderr.write(f"harness: {error}\n")
    sys.exit(4)  # gunicorn's "app failed to load": the arbiter stops instead of looping
