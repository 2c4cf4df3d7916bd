"""Imports each domain's `events` module so its handlers register.

Workers import this (through jobs.events); add a line per domain.
"""

import app.models  # noqa: F401  every table, so a worker's flush can sort foreign keys across domains
import app.platform.platform_events  # noqa: F401
import app.orders.events  # noqa: F401
import app.orders.orchestration  # noqa: F401  print-job events move orders
import app.printing.events  # noqa: F401
import app.printing.service  # noqa: F401  retry operations, after-commit hooks
import app.builds.service  # noqa: F401  registers the packaging gate
import app.booklets.events  # noqa: F401
import app.catalog.service  # noqa: F401  bumps the offers version after commits
