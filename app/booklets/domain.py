"""The booklets domain's door: the Quick Start Guide and Technical Dossier of
a build, rendered on the booklets queue."""

from app.platform.domain import Domain, Periodic

DOMAIN = Domain(
    name="booklets",
    title="Booklets",
    handlers=("app.booklets.events",),
    periodic=(Periodic("jobs.booklets.sweep", every=60, queue="booklets"),),
    depends_on=("orders", "builds", "customers"),
)
