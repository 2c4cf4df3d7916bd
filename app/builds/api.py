"""Builds REST API (the workbench's routes)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, UploadFile
from pydantic import BaseModel, Field
from sqlmodel import col, select

from app.builds import machine, service
from app.builds.models import PHOTO_SLOTS, Build, TestRun
from app.builds.photos import MAX_PHOTO_BYTES, PayloadTooLarge
from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.errors import NotFound
from app.platform.models import Attachment
from app.platform.text import json_size
from app.platform.web import require

router = APIRouter(tags=["builds"])


def build_json(session, build: Build) -> dict:
    ids = service.photo_ids(build)
    attachments = {
        a.id: a for a in session.exec(select(Attachment).where(col(Attachment.id).in_([i for i in ids.values() if i])))
    }
    return {
        "id": str(build.id),
        "orderId": str(build.order_id),
        "status": build.status,
        "allowedStatuses": machine.allowed(build.status),
        "startedAt": build.started_at,
        "finishedAt": build.finished_at,
        "photos": {
            slot: (
                {
                    "attachmentId": str(i),
                    "url": f"/api/v1/files/{attachments[i].key}",
                    "thumbnailUrl": f"/api/v1/files/{attachments[i].thumbnail_key}",
                }
                if i and i in attachments
                else None
            )
            for slot, i in ids.items()
        },
        "qa": {
            "result": build.qa_result,
            "notes": build.qa_notes,
            "checklist": build.qa_checklist,
            "passedAt": build.qa_passed_at,
            "signedOffById": str(build.qa_signed_off_by_id) if build.qa_signed_off_by_id else None,
        },
        "systemConfig": build.system_config,
        "benchmarks": build.benchmarks,
        "stressTests": build.stress_tests,
        "temperatures": {k: getattr(build, col) for k, col in service.TEMPERATURE_FIELDS.items()},
        "booklets": {
            "status": build.booklet_status,
            "error": build.booklet_error,
            "quickStartBookletId": str(build.quick_start_booklet_id) if build.quick_start_booklet_id else None,
            "technicalDossierBookletId": str(build.technical_dossier_booklet_id)
            if build.technical_dossier_booklet_id
            else None,
        },
        "packagingMissing": service.missing_for_packaging(session, build),
        "testRuns": test_runs_json(session, service.test_runs(session, build.id)),
        "feed": service.feed(session, build.id),
    }


def _file_json(attachment: Attachment) -> dict:
    return {
        "attachmentId": str(attachment.id),
        "url": f"/api/v1/files/{attachment.key}",
        "thumbnailUrl": f"/api/v1/files/{attachment.thumbnail_key}",
        "width": attachment.width,
        "height": attachment.height,
    }


def test_runs_json(session, runs: list[TestRun]) -> list[dict]:
    shots = service.test_run_photos(session, runs)
    return [
        {
            "id": str(r.id),
            "type": r.type,
            "status": r.status,
            "score": r.score,
            "notes": r.notes,
            "photoAttachmentId": str(r.photo_attachment_id) if r.photo_attachment_id else None,
            "photo": _file_json(shots[r.id]) if r.id in shots else None,
        }
        for r in runs
    ]


class CreateBody(BaseModel):
    orderId: uuid.UUID


@router.post("/builds", status_code=201)
def create_build(body: CreateBody, principal: Principal = Depends(require("builds.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        build = service.create_build(s, body.orderId, actor=principal)
        s.commit()
        return build_json(s, build)


@router.get("/builds/{build_id}")
def get_build(build_id: uuid.UUID, principal: Principal = Depends(require("builds.read"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return build_json(s, service.get_build(s, build_id))


class PatchBody(BaseModel):
    status: Literal["pending", "in_progress", "paused", "testing", "completed", "failed"]


@router.patch("/builds/{build_id}")
def patch_build(build_id: uuid.UUID, body: PatchBody, principal: Principal = Depends(require("builds.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        build = service.change_status(s, build_id, body.status, actor=principal)
        s.commit()
        return build_json(s, build)


@router.post("/builds/{build_id}/photos/{slot}", status_code=201)
async def upload_photo(
    build_id: uuid.UUID,
    slot: str,
    file: UploadFile = File(...),
    principal: Principal = Depends(require("builds.write")),
) -> dict:
    if slot not in PHOTO_SLOTS:
        raise NotFound(f"no photo slot '{slot}' (slots: {', '.join(PHOTO_SLOTS)})")
    data = await file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(f"the photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")

    def work() -> dict:
        with tenant_session(principal.tenant_id) as s:
            attachment = service.store_photo(s, build_id, slot, data, filename=file.filename or "", actor=principal)
            s.commit()
            return {"slot": slot, **_file_json(attachment)}

    return await asyncio.to_thread(work)


class ChecklistItem(BaseModel):
    item: str = Field(min_length=1, max_length=200)
    done: bool = False
    notes: str = Field("", max_length=500)


# Free-form QA records (system configuration, benchmark and stress-test
# results) are small by nature: a few dozen values each.
QA_JSON = json_size(20_000)


class QABody(BaseModel):
    checklist: list[ChecklistItem] | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=5000)
    systemConfig: Annotated[dict, QA_JSON] | None = None
    benchmarks: Annotated[list[dict], QA_JSON] | None = Field(None, max_length=100)
    stressTests: Annotated[list[dict], QA_JSON] | None = Field(None, max_length=100)
    temperatures: dict[Annotated[str, Field(max_length=50)], float | None] | None = Field(None, max_length=50)


@router.put("/builds/{build_id}/qa")
def put_qa(build_id: uuid.UUID, body: QABody, principal: Principal = Depends(require("builds.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        build = service.update_qa(
            s,
            build_id,
            service.QAUpdate(
                checklist=[i.model_dump() for i in body.checklist] if body.checklist is not None else None,
                notes=body.notes,
                system_config=body.systemConfig,
                benchmarks=body.benchmarks,
                stress_tests=body.stressTests,
                temperatures=body.temperatures,
            ),
            actor=principal,
        )
        s.commit()
        return build_json(s, build)


class SignOffBody(BaseModel):
    passed: bool


@router.post("/builds/{build_id}/qa/sign-off")
def sign_off(build_id: uuid.UUID, body: SignOffBody, principal: Principal = Depends(require("builds.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        build = service.sign_off_qa(s, build_id, body.passed, actor=principal)
        s.commit()
        return build_json(s, build)


class TestRunBody(BaseModel):
    type: str = Field(min_length=1, max_length=30)
    status: str = Field("pending", max_length=30)
    score: float | None = Field(None, ge=-1e12, le=1e12)
    notes: str = Field("", max_length=5000)


@router.post("/builds/{build_id}/test-runs", status_code=201)
def add_test_run(
    build_id: uuid.UUID, body: TestRunBody, principal: Principal = Depends(require("builds.write"))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        run = service.add_test_run(
            s, build_id, type=body.type, status=body.status, score=body.score, notes=body.notes, actor=principal
        )
        s.commit()
        return test_runs_json(s, [run])[0]


class TestRunPatch(BaseModel):
    status: str | None = Field(None, max_length=30)
    score: float | None = Field(None, ge=-1e12, le=1e12)
    notes: str | None = Field(None, max_length=5000)


@router.patch("/builds/{build_id}/test-runs/{run_id}")
def edit_test_run(
    build_id: uuid.UUID, run_id: uuid.UUID, body: TestRunPatch, principal: Principal = Depends(require("builds.write"))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        run = service.update_test_run(
            s, run_id, status=body.status, score=body.score, notes=body.notes, actor=principal
        )
        if str(run.build_id) != str(build_id):
            raise NotFound("no such test run on this build")
        s.commit()
        return test_runs_json(s, [run])[0]


@router.post("/builds/{build_id}/test-runs/{run_id}/photo", status_code=201)
async def upload_test_run_photo(
    build_id: uuid.UUID,
    run_id: uuid.UUID,
    file: UploadFile = File(...),
    principal: Principal = Depends(require("builds.write")),
) -> dict:
    """A test run's screenshot (replaces the one it had)."""
    data = await file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(f"the photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")

    def work() -> dict:
        with tenant_session(principal.tenant_id) as s:
            attachment = service.store_test_run_photo(
                s, build_id, run_id, data, filename=file.filename or "", actor=principal
            )
            s.commit()
            return {"testRunId": str(run_id), **_file_json(attachment)}

    return await asyncio.to_thread(work)


@router.delete("/builds/{build_id}/test-runs/{run_id}/photo", status_code=204)
def delete_test_run_photo(
    build_id: uuid.UUID, run_id: uuid.UUID, principal: Principal = Depends(require("builds.write"))
) -> None:
    with tenant_session(principal.tenant_id) as s:
        service.remove_test_run_photo(s, build_id, run_id, actor=principal)
        s.commit()


class EventBody(BaseModel):
    eventType: str = Field(min_length=1, max_length=30)
    message: str = Field(min_length=1, max_length=5000)
    severity: str = Field("info", max_length=10)


@router.post("/builds/{build_id}/events", status_code=201)
def add_event(build_id: uuid.UUID, body: EventBody, principal: Principal = Depends(require("builds.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        entry = service.add_event(s, build_id, body.eventType, body.message, severity=body.severity, actor=principal)
        s.commit()
        return {"id": str(entry.id), "eventType": entry.event_type, "severity": entry.severity}


class StepBody(BaseModel):
    step: str = Field(min_length=1, max_length=30)
    note: str = Field(default="", max_length=2000)


@router.post("/builds/{build_id}/timeline", status_code=201)
def add_step(build_id: uuid.UUID, body: StepBody, principal: Principal = Depends(require("builds.write"))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        entry = service.add_step(s, build_id, body.step, body.note, actor=principal)
        s.commit()
        return {"id": str(entry.id), "step": entry.step, "note": entry.note, "createdAt": entry.created_at}


@router.post("/builds/{build_id}/booklets/regenerate", status_code=202)
def regenerate_booklets(build_id: uuid.UUID, principal: Principal = Depends(require("builds.write"))) -> dict:
    """Queue a fresh render of both booklets; answers at once."""
    with tenant_session(principal.tenant_id) as s:
        build = service.regenerate_booklets(s, build_id, actor=principal)
        s.commit()
        return {"status": build.booklet_status}
