"""What every part of the grid service shares: the pipeline's steps and
statuses in words, the events it publishes, the actor the pipeline works
as, and the live update open pages listen for."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from app.platform import live
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.machine import Status, StatusTable

SOURCE = "grid-service"
LIVE_KIND = "grid"

# Published by this domain (payloads per seed 003)
MAPPING_READY = "grid.mapping-ready"  # {orderId, lineItemId, sku}
PIPELINE_FAILED = "grid.pipeline-failed"  # {orderId, lineItemId, sku, errorMessage, failedStep}

# The pipeline's steps, in order (seed: failedStep). A job for an order line
# runs all four; a staff or storefront preview job only generates and slices.
STL_GENERATION = "stl-generation"
SLICING = "slicing"
UPLOAD = "simplyprint-upload"
MAPPING = "mapping-creation"
ORDER_STEPS = (STL_GENERATION, SLICING, UPLOAD, MAPPING)
PREVIEW_STEPS = (STL_GENERATION, SLICING)
STEP_WORDS = {
    STL_GENERATION: "generating the plates",
    SLICING: "slicing",
    UPLOAD: "uploading to SimplyPrint",
    MAPPING: "creating the product mapping",
}
# Where each step's progress starts and ends (0-100).
STEP_PROGRESS = {STL_GENERATION: (0, 35), SLICING: (35, 85), UPLOAD: (85, 95), MAPPING: (95, 100)}

JOB_STATUS = StatusTable(
    Status("QUEUED", "Queued", "gray"),
    Status("PROCESSING", "Processing", "blue"),
    Status("COMPLETED", "Completed", "green"),
    Status("FAILED", "Failed", "red"),
    Status("EXPIRED", "Expired", "gray"),
)
JOB_STATUSES = JOB_STATUS.values
ORIGINS = {"order": "Order", "staff": "Staff", "storefront": "Storefront"}
TYPES = {"BASEPLATE": "Baseplate", "PLATE_SET": "Plate set"}


def changed(session: Session, job_id: uuid.UUID | None = None, **data) -> None:
    """Open grid pages refresh once this transaction commits."""
    live.notify_after_commit(session, LIVE_KIND, jobId=str(job_id) if job_id else None, **data)


def pipeline_actor(session: Session) -> Principal:
    """Who the pipeline acts as when it calls another domain's operation
    (a product mapping is created for an order with no person involved)."""
    return Principal(
        tenant_id=session_tenant_id(session),
        tenant_name="",
        tenant_slug="",
        user_id=None,
        username="grid-pipeline",
        display_name="Gridfinity pipeline",
        roles=(),
        permissions=frozenset({"printJobs.write", "grid.write"}),
    )
