"""Grid operations: the one place the Gridfinity rules live. Pages, the REST
API, event handlers and jobs call these with a tenant session, as
`from app.grid import service; service.X(...)`. One module per concern,
each importing only those above it in this list:

- _common: steps, statuses and events in words, the pipeline's actor, live updates.
- settings: the shop's pricing, limits, printer profile and feature flag.
- artifacts: the cache of pieces (content hash → mesh, G-code, grams, time).
- quotes: the quote with the shop's prices and the cache's measured figures.
- presets: system, public and private presets.
- pipeline: GenerateForOrder, the steps, failure, retries, GetMappingStatus,
  staff jobs; registers printing's line claim and mapping source, an orders
  fulfillment gate and cancel hook, and the GRIDFLOCK_PIPELINE retry operation.
- jobs_view: the job list, a job's segments, files, picture and previews.
- orders: the storefront's order of a baseplate.
- cleanup: EXPIRED jobs and unused pieces (cron).

Importing this package registers the hooks; app.grid.domain lists it as a
handler module for that.
"""

from app.grid.geometry.quote import Quote
from app.grid.service._common import (
    JOB_STATUS,
    JOB_STATUSES,
    LIVE_KIND,
    MAPPING,
    MAPPING_READY,
    ORDER_STEPS,
    ORIGINS,
    PIPELINE_FAILED,
    PREVIEW_STEPS,
    SLICING,
    SOURCE,
    STEP_WORDS,
    STL_GENERATION,
    UPLOAD,
)
from app.grid.service.cleanup import CleanupResult, expire_unused
from app.grid.service.jobs_view import (
    FILE_KINDS,
    SORTS,
    JobRow,
    SegmentRow,
    get_job,
    get_job_row,
    job_counts,
    job_file,
    job_glb,
    job_segments,
    list_jobs,
    preview_glb,
    preview_options,
    preview_png,
)
from app.grid.service.orders import line_for, place_storefront_order
from app.grid.service.pipeline import (
    LineOutcome,
    MappingStatus,
    generate_for_order,
    is_grid_line,
    line_mapping,
    mapping_name,
    mapping_sku,
    mapping_status,
    on_mapping_ready,
    order_job,
    pipeline_abandoned,
    retry_job,
    run,
    start_job,
)
from app.grid.service.presets import PresetRow, apply_preset, delete_preset, get_preset, list_presets, save_preset
from app.grid.service.quotes import quote_for, quote_with
from app.grid.service.settings import GridSettings, enabled, grid_settings, printer_profile, save_grid_settings

__all__ = [
    "FILE_KINDS",
    "JOB_STATUS",
    "JOB_STATUSES",
    "LIVE_KIND",
    "MAPPING",
    "MAPPING_READY",
    "ORDER_STEPS",
    "ORIGINS",
    "PIPELINE_FAILED",
    "PREVIEW_STEPS",
    "SLICING",
    "SORTS",
    "SOURCE",
    "STEP_WORDS",
    "STL_GENERATION",
    "UPLOAD",
    "CleanupResult",
    "GridSettings",
    "JobRow",
    "LineOutcome",
    "MappingStatus",
    "PresetRow",
    "Quote",
    "SegmentRow",
    "apply_preset",
    "delete_preset",
    "enabled",
    "expire_unused",
    "generate_for_order",
    "get_job",
    "get_job_row",
    "get_preset",
    "grid_settings",
    "is_grid_line",
    "job_counts",
    "job_file",
    "job_glb",
    "job_segments",
    "line_for",
    "line_mapping",
    "list_jobs",
    "list_presets",
    "mapping_name",
    "mapping_sku",
    "mapping_status",
    "on_mapping_ready",
    "order_job",
    "pipeline_abandoned",
    "place_storefront_order",
    "preview_glb",
    "preview_options",
    "preview_png",
    "printer_profile",
    "quote_for",
    "quote_with",
    "retry_job",
    "run",
    "save_grid_settings",
    "save_preset",
    "start_job",
]
