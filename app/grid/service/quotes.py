"""The quote (seed 003: Grid Pricing) with the shop's prices and the cache's
measured grams and print times: what the storefront and the generator show
as a size is typed, and what a job records when it is made."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from app.grid import parsing
from app.grid.geometry.quote import Quote, quote
from app.grid.geometry.spec import GridOptions
from app.grid.profiles import PrinterProfile, estimate_time_scale, slicer_margin_mm
from app.grid.service import artifacts
from app.grid.service.settings import GridSettings, grid_settings, printer_profile


def quote_with(session: Session, options: GridOptions, settings: GridSettings, profile: PrinterProfile) -> Quote:
    """The quote of `options` as given, with the shop's prices; pieces already
    sliced for `profile` count with their measured grams and time."""
    return quote(
        options,
        base_price=settings.base_price,
        unit_price=settings.unit_price,
        unit_size_mm=settings.unit_size_mm,
        currency=settings.currency,
        known=artifacts.known_estimate(session, profile),
        margin_mm=slicer_margin_mm(profile),
        time_scale=estimate_time_scale(profile),
    )


def quote_for(session: Session, options: GridOptions, *, profile_name: str = "") -> Quote:
    """The quote a customer or staff member sees: the plates planned for the
    bed of the printer that prints them (the shop's, unless `profile_name`
    names a preset or "custom", whose bed is the one in `options`). A size
    the shop does not make: GridInputError (422) with the reason."""
    settings = grid_settings(session)
    parsing.check_options(options, max_dimension_mm=settings.max_dimension_mm)
    profile = printer_profile(settings, profile_name, bed=(options.bed_width_mm, options.bed_depth_mm))
    planned = replace(options, bed_width_mm=profile.bed_width_mm, bed_depth_mm=profile.bed_depth_mm)
    return quote_with(session, planned, settings, profile)
