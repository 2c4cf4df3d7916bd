"""Imports every domain's models so SQLModel.metadata knows all tables
(Alembic's env.py and the tests import this one module)."""

from app.platform.models import *  # noqa: F401,F403
from app.orders.models import *  # noqa: F401,F403
from app.builds.models import *  # noqa: F401,F403
from app.catalog.models import *  # noqa: F401,F403
from app.customers.models import *  # noqa: F401,F403
from app.builder.models import *  # noqa: F401,F403
from app.printing.models import *  # noqa: F401,F403
