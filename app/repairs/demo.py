"""Demo repairs for `make dev`, all through the real services: the master
data (clients, device models, technicians, codes, price rules), a claims batch
from the phone insurer received four weeks ago and worked through since (its
devices now in every state: triaged, in BER review, awaiting parts, in
repair, in final QC, ready, returned unrepaired, scrapped, on hold,
dispatched and invoiced with a sent invoice), a school district's batch of
tablets half received (a receiving session still open, one device not on the
manifest), a refurbisher's batch expected next week, diagnostic logs with a
few codes waiting in the unmapped queue, and 30 days of daily snapshots.

The work happened today, through the services; the history is then spread
over the past four weeks (every timestamp of an asset moved back by the same
steps, in order), and the snapshots of those days taken, so the dashboard's
charts have a month to show. Idempotent: a shop with any expected batch has
its demo (or its own repairs) and is left alone.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.inventory.models import SparePart
from app.platform import auth
from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.models import User, utcnow
from app.platform.permissions import PERMISSIONS
from app.repairs import demo_master, drfone
from app.repairs.models import (
    DeviceModel,
    DeviceRepairCode,
    ExpectedBatch,
    RepairAsset,
    RepairClient,
    RepairCode,
    RepairDispatch,
    Technician,
)
from app.repairs.service import billing, diagnostics, qc, receiving, reports, worksheets

INSURER, SCHOOLS, REFURB = "SafeHands Phone Insurance", "Rhine Valley School District", "Second Wave Refurb Ltd"


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return body + str((10 - total % 10) % 10)


def _imei(n: int) -> str:
    return _luhn(f"35{n:012d}")


def _actor(session: Session) -> Principal:
    """The demo's operator (named in the history), with every permission."""
    user = session.exec(select(User).where(User.username == "operator")).first()
    return auth.job_principal(session_tenant_id(session), "demo", set(PERMISSIONS), user_id=user.id if user else None)


# The insurer's claims batch: (model, fault, declared value, what happens to it)
CLAIMS: tuple[tuple[str, str, str, str], ...] = (
    ("iPhone 12", "Cracked screen after a drop", "320", "invoiced"),
    ("iPhone 12", "Battery drains within hours", "300", "invoiced"),
    ("Galaxy S21", "Screen flickers green", "280", "invoiced"),
    ("iPhone 13", "Cracked screen", "420", "invoiced"),
    ("iPhone 12", "Does not charge", "300", "invoiced"),
    ("Pixel 7", "Battery swollen", "260", "dispatched"),
    ("iPhone 13", "Cracked back glass and screen", "430", "ready_for_dispatch"),
    ("Galaxy S21", "Charging port loose", "250", "ready_for_dispatch"),
    ("iPhone 12", "Screen unresponsive at the top", "310", "final_qc"),
    ("iPhone 12", "Cracked screen", "300", "in_repair"),
    ("Galaxy S21", "Cracked screen", "260", "in_repair"),
    ("iPhone 13", "Screen dead, no image", "410", "awaiting_parts"),
    ("iPhone 14 Pro", "Bent frame, screen and back cracked", "380", "ber_review"),
    ("Galaxy A54", "Water damage, will not boot", "150", "return_unrepaired"),
    ("iPhone 12", "Crushed, board cracked", "90", "scrapped"),
    ("Pixel 7", "Intermittent restarts", "270", "on_hold"),
    ("iPhone 13", "Speaker crackles", "400", "in_triage"),
)
# triage codes for a fault's first word
FAULT_CODES = {
    "Cracked": ["SCR-REPL"],
    "Screen": ["SCR-REPL"],
    "Battery": ["BAT-REPL"],
    "Does": ["CHG-PORT"],
    "Charging": ["CHG-PORT"],
    "Speaker": ["SPK-LOUD"],
}
PARTS_FOR = {
    ("iPhone 12", "SCR-REPL"): "SCR-IP12-OLED",
    ("iPhone 12", "BAT-REPL"): "BAT-IP12",
    ("iPhone 12", "CHG-PORT"): "PORT-IP12-LTN",
    ("iPhone 13", "SCR-REPL"): "SCR-IP13-OLED",
    ("Galaxy S21", "SCR-REPL"): "SCR-S21-AMOLED",
    ("Galaxy S21", "CHG-PORT"): "PORT-S21-USBC",
    ("Pixel 7", "BAT-REPL"): "BAT-PX7",
}
# the school district's tablets: the manifest, and the ones scanned in so far
SCHOOL_MANIFEST: tuple[tuple[str, str, str], ...] = tuple(
    (_imei(4_400_000 + n), "iPad 9th gen", f"{fault}") for n, fault in enumerate(
        ["Cracked digitizer", "Does not charge", "Cracked digitizer", "Home button stuck", "Cracked digitizer",
         "Battery", "Cracked digitizer", "Speaker silent", "Cracked digitizer", "No Wi-Fi"]
    )
)  # fmt: skip
SCHOOL_SCANNED = 5
# devices whose diagnostic-log samples name them (IMEI or serial in the sample files)
LOGGED: tuple[tuple[str, str, str, str], ...] = (
    ("353912110123451", "", "iPhone 12", "iphone12_battery_port.txt"),
    ("358240512345679", "", "Galaxy S21", "galaxy_s21_screen_fingerprint.txt"),
    ("356789104561236", "", "iPhone SE (2nd generation)", "iphone_se_liquid_crlf.txt"),
    ("355447123456786", "", "Pixel 7", "pixel7_unknown_nfc_code.txt"),
)
# the tool's codes the shop has mapped already (the rest wait in the queue)
MAPPINGS = {"DF-BAT-012": "BAT-REPL", "DF-CHG-004": "CHG-PORT", "DF-SCR-001": "SCR-REPL", "DF-SCR-007": "SCR-REPL"}


class _Demo:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.actor = _actor(session)
        self.clients = {c.name: c for c in session.exec(select(RepairClient))}
        self.models = {m.model: m for m in session.exec(select(DeviceModel))}
        self.codes = {c.code: c for c in session.exec(select(RepairCode).order_by(col(RepairCode.tenant_id)))}
        self.parts = {p.sku: p for p in session.exec(select(SparePart))}
        self.techs = list(session.exec(select(Technician).order_by(col(Technician.name))))

    # --- receiving ---------------------------------------------------------------------------

    def batch(self, client: str, reference: str, lines: list[receiving.ManifestLine], **kw) -> ExpectedBatch:
        data = receiving.BatchData(client_id=self.clients[client].id, client_reference=reference, lines=lines, **kw)
        return receiving.create_batch(self.s, data, actor=self.actor)

    def scan(self, session_id: uuid.UUID, imei: str, model: str, *, condition: str = "B", fault: str = ""):
        data = receiving.ScanData(
            code=imei,
            device_model_id=self.models[model].id if model in self.models else None,
            condition=condition,
            accessories=["SIM tray"] if condition != "D" else [],
            fault=fault,
        )
        return receiving.scan(self.s, session_id, data, actor=self.actor).asset

    # --- working an asset through ----------------------------------------------------------------

    def triage(self, asset: RepairAsset, codes: list[str], **kw) -> None:
        receiving.start_triage(self.s, asset.id, actor=self.actor)
        ids: list[uuid.UUID | str] = [self.codes[c].id for c in codes]
        qc.triage(self.s, asset.id, repair_code_ids=ids, actor=self.actor, **kw)

    def repair(self, asset: RepairAsset, model: str, codes: list[str], n: int, *, to: str) -> None:
        """Worksheet: labour, the parts, the codes done; then as far as `to` goes."""
        tech = self.techs[n % len(self.techs)]
        ws = worksheets.open_worksheet(self.s, asset.id, technician_id=tech.id, actor=self.actor)
        worksheets.log_labour(self.s, ws.id, 25 + 10 * (n % 4), note="bench work", actor=self.actor)
        for code in codes:
            sku = PARTS_FOR.get((model, code))
            if sku in self.parts and self.parts[sku].current_stock > 0:
                worksheets.issue_part(
                    self.s, ws.id, self.parts[sku].id, 1, idempotency_key=f"demo-{asset.id}-{sku}", actor=self.actor
                )
        if to == "in_repair":
            return
        rows = self.s.exec(
            select(DeviceRepairCode).where(
                DeviceRepairCode.asset_id == asset.id, col(DeviceRepairCode.repair_code_id).is_not(None)
            )
        ).all()
        for row in rows:
            worksheets.set_code_done(self.s, ws.id, row.id, True, actor=self.actor)
        worksheets.submit_for_qc(self.s, ws.id, actor=self.actor)
        if to == "final_qc":
            return
        if n % 3 == 0:  # one in three fails its first final QC
            worksheets.qc_fail(self.s, ws.id, "Face ID calibration failed after the repair", actor=self.actor)
            worksheets.submit_for_qc(self.s, ws.id, actor=self.actor)
        worksheets.qc_pass(self.s, ws.id, notes="All functions tested", actor=self.actor)


def _claims_batch(d: _Demo) -> tuple[ExpectedBatch, list[RepairAsset]]:
    lines = [
        receiving.ManifestLine(imei=_imei(3_300_000 + n), model=model, fault=fault, declared_value=value)
        for n, (model, fault, value, _) in enumerate(CLAIMS)
    ]
    batch = d.batch(INSURER, "CLM-2026-1107", lines, notes="Monthly claims pickup (courier CP-88213)")
    rs = receiving.start_session(d.s, batch.id, actor=d.actor)
    assets = []
    for n, (model, fault, _, _) in enumerate(CLAIMS):
        assets.append(d.scan(rs.id, _imei(3_300_000 + n), model, condition="BCBAD"[n % 5], fault=fault))
    receiving.close_session(d.s, rs.id, actor=d.actor)
    return batch, assets


def _work_claims(d: _Demo, assets: list[RepairAsset]) -> tuple[list[RepairAsset], list[RepairAsset]]:
    """Each claim to where CLAIMS says; returns the ones to dispatch and invoice, and
    the ones dispatched whose invoice is still a draft."""
    invoiced, dispatched = [], []
    for n, (asset, (model, fault, _, end)) in enumerate(zip(assets, CLAIMS, strict=True)):
        codes = FAULT_CODES.get(fault.split()[0], ["SCR-REPL"])
        if end == "in_triage":
            receiving.start_triage(d.s, asset.id, actor=d.actor)
        elif end == "on_hold":
            receiving.start_triage(d.s, asset.id, actor=d.actor)
            receiving.hold(d.s, asset.id, "Waiting for the client to confirm the claim", actor=d.actor)
        elif end in ("ber_review", "return_unrepaired", "scrapped"):
            parts, labour = ("95", "60") if end == "ber_review" else ("140", "90")
            d.triage(asset, codes, result="ber_suspected", estimated_parts=parts, estimated_labour=labour)
            if end != "ber_review":
                review = qc.open_review_for(d.s, asset.id)
                assert review is not None
                decision = "return_unrepaired" if end == "return_unrepaired" else "scrap"
                qc.decide_ber(
                    d.s, review.id, decision=decision, notes="Repair costs more than the device is worth", actor=d.actor
                )
        elif end == "awaiting_parts":
            d.triage(asset, codes, result="repairable", awaiting_parts=True)
        else:
            d.triage(asset, codes, result="repairable")
            d.repair(asset, model, codes, n, to=end if end in ("in_repair", "final_qc") else "passed")
            if end == "invoiced":
                invoiced.append(asset)
            elif end == "dispatched":
                dispatched.append(asset)
    return invoiced, dispatched


def _dispatch(d: _Demo, assets: list[RepairAsset], tracking: str, *, send: bool) -> None:
    """A finalized dispatch; its invoice sent (numbered, its PDF rendered by a worker) or left a draft."""
    dispatch = billing.create_dispatch(
        d.s, d.clients[INSURER].id, actor=d.actor, carrier="DHL Express", tracking_number=tracking
    )
    billing.add_assets(d.s, dispatch.id, [a.id for a in assets], actor=d.actor)
    invoice = billing.finalize_dispatch(d.s, dispatch.id, actor=d.actor)
    if not send:
        return
    for line in billing.invoice_lines(d.s, invoice.id):
        if line.warning:  # no price rule: price it as the shop would
            billing.update_line(d.s, line.id, unit_price=Decimal("49.00"), actor=d.actor)
    billing.send_invoice(d.s, invoice.id, actor=d.actor)


def _school_batch(d: _Demo) -> None:
    lines = [receiving.ManifestLine(imei=i, model=m, fault=f, declared_value="180") for i, m, f in SCHOOL_MANIFEST]
    batch = d.batch(SCHOOLS, "RVSD-TAB-0412", lines, notes="Term break collection, 10 tablets")
    rs = receiving.start_session(d.s, batch.id, actor=d.actor)
    scanned = [d.scan(rs.id, imei, model, fault=fault) for imei, model, fault in SCHOOL_MANIFEST[:SCHOOL_SCANNED]]
    d.scan(rs.id, _imei(4_499_999), "iPad 9th gen", condition="C", fault="Not on our list: found in the box")
    receiving.start_triage(d.s, scanned[0].id, actor=d.actor)  # the session stays open: half received


def _logged_devices(d: _Demo) -> None:
    """A refurbisher's lot tested on the diagnostic station: the logs name the devices."""
    lines = [receiving.ManifestLine(imei=i, serial=s, model=m) for i, s, m, _ in LOGGED]
    batch = d.batch(REFURB, "SW-LOT-88", lines, notes="Graded B stock, test and repair")
    rs = receiving.start_session(d.s, batch.id, actor=d.actor)
    for imei, _, model, _ in LOGGED:
        d.scan(rs.id, imei, model, condition="B")
    receiving.close_session(d.s, rs.id, actor=d.actor)
    for code, repair in MAPPINGS.items():
        diagnostics.create_mapping(d.s, code, d.codes[repair].id, actor=d.actor)
    samples = {p.name: p for p in drfone.sample_files()}
    for imei, _, _, name in LOGGED:
        if name in samples:  # named as the diagnostic station names its reports
            report = f"DrFone Report {imei} {utcnow():%Y-%m-%d}.txt"
            log = diagnostics.upload(d.s, report, samples[name].read_bytes(), actor=d.actor).log
            diagnostics.start_parsing(d.s, log.id)
            diagnostics.parse_log(d.s, log.id)
    d.batch(REFURB, "SW-LOT-91", [], expected_count=24, expected_on=(utcnow() + timedelta(days=6)).date())


# Spread the month: each asset arrived between 4 and 25 days ago (its own
# number of hours, from its id) and its steps since are spread evenly up to now,
# in their order.
_SPREAD = text(
    """
    WITH moved AS (
      SELECT c.id, c.asset_id,
             row_number() OVER (PARTITION BY c.asset_id ORDER BY c.changed_at, c.id) - 1 AS step,
             count(*) OVER (PARTITION BY c.asset_id) AS steps
      FROM asset_status_changes c JOIN repair_assets a ON a.id = c.asset_id
      WHERE a.batch_id = :batch
    )
    UPDATE asset_status_changes c
    SET changed_at = now() - make_interval(
        hours => ((96 + (hashtext(moved.asset_id::text) & 511)) * (moved.steps - moved.step) / moved.steps)::int
    )
    FROM moved WHERE moved.id = c.id
    """
)
_SETTLE = text(
    """
    UPDATE repair_assets a SET
      received_at = (SELECT min(changed_at) FROM asset_status_changes c WHERE c.asset_id = a.id),
      status_changed_at = (SELECT max(changed_at) FROM asset_status_changes c WHERE c.asset_id = a.id)
    WHERE a.batch_id = :batch
    """
)


def _spread(d: _Demo, batch: ExpectedBatch) -> None:
    d.s.flush()
    d.s.execute(_SPREAD, {"batch": batch.id})
    d.s.execute(_SETTLE, {"batch": batch.id})
    d.s.execute(
        text(
            "UPDATE repair_invoices i SET issued_at = now() - interval '3 days', "
            "issued_on = (now() - interval '3 days')::date "
            "WHERE i.dispatch_id IN (SELECT id FROM repair_dispatches WHERE client_id = :c)"
        ),
        {"c": batch.client_id},
    )
    d.s.execute(
        text("UPDATE repair_dispatches SET finalized_at = now() - interval '3 days' WHERE client_id = :c"),
        {"c": batch.client_id},
    )


def load(session: Session) -> None:
    if session.exec(select(ExpectedBatch).limit(1)).first() is not None:
        return
    demo_master.load(session)
    session.flush()
    d = _Demo(session)
    claims, assets = _claims_batch(d)
    invoiced, dispatched = _work_claims(d, assets)
    _dispatch(d, invoiced, "JD014600003318877", send=True)
    _dispatch(d, dispatched, "JD014600003319204", send=False)
    _spread(d, claims)
    _school_batch(d)
    _logged_devices(d)
    session.flush()
    reports.backfill(session, reports.HISTORY_DAYS)
    assert session.exec(select(RepairDispatch).limit(1)).first() is not None
    session.commit()
