"""The process entry point of `celery -A workers`: the one place that reads the environment."""

import sys

from harness.errors import SettingsError
from harness.settings import Settings
from workers import create_celery

try:
    app = create_celery(Settings.from_env())
except SettingsError as error:
    sys.exit(f"harness: {error}")
