"""Repairs REST API, master data: repair clients, device models, teams,
technicians, the repair-codes catalogue and price rules, each listed with
search, sort and paging, created, edited, deactivated and (when nothing
refers to it) deleted; and the price a rule gives (`/repairs/prices/lookup`).
Reading needs `repairs.read`, changing `repairs.write`."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from app.platform.auth import Principal
from app.platform.db import tenant_session
from app.platform.web import require
from app.repairs.models import DeviceModel, RepairClient, RepairCode, RepairTeam, Technician
from app.repairs.service import master
from app.repairs.service._common import MAX_MONEY, READ, WRITE

router = APIRouter(tags=["repairs"])
MAX_SEARCH = 200
Active = Literal["", "active", "inactive"]


def _page(total: int, page: int, size: int, key: str, items: list[dict]) -> dict:
    return {"total": total, "page": page, "pageSize": size, key: items}


# --- JSON shapes ----------------------------------------------------------------------------------


def client_json(c: RepairClient) -> dict:
    return {
        "id": str(c.id),
        "name": c.name,
        "contactName": c.contact_name,
        "email": c.email,
        "phone": c.phone,
        "billingAddress": c.billing_address,
        "country": c.country,
        "vatNumber": c.vat_number,
        "paymentTermsDays": c.payment_terms_days,
        "currency": c.currency,
        "berThresholdPercent": c.ber_threshold_percent,
        "notes": c.notes,
        "active": c.active,
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
    }


def device_json(d: DeviceModel) -> dict:
    return {
        "id": str(d.id),
        "manufacturer": d.manufacturer,
        "model": d.model,
        "category": d.category,
        "variants": list(d.variants or []),
        "typicalValue": str(d.typical_value),
        "active": d.active,
        "createdAt": d.created_at,
    }


def team_json(t: RepairTeam, members: int | None = None) -> dict:
    out = {
        "id": str(t.id),
        "name": t.name,
        "description": t.description,
        "active": t.active,
        "createdAt": t.created_at,
    }
    if members is not None:
        out["members"] = members
    return out


def technician_json(t: Technician, team_name: str | None = None, user_name: str | None = None) -> dict:
    out = {
        "id": str(t.id),
        "name": t.name,
        "email": t.email,
        "userId": str(t.user_id) if t.user_id else None,
        "teamId": str(t.team_id) if t.team_id else None,
        "hourlyRate": str(t.hourly_rate),
        "active": t.active,
        "createdAt": t.created_at,
    }
    if team_name is not None:
        out["teamName"] = team_name or None
    if user_name is not None:
        out["userName"] = user_name or None
    return out


def code_json(c: RepairCode) -> dict:
    return {
        "id": str(c.id),
        "code": c.code,
        "name": c.name,
        "category": c.category,
        "defaultLabourMinutes": c.default_labour_minutes,
        "canonical": master.is_canonical(c),
        "active": c.active,
        "createdAt": c.created_at,
    }


def rule_json(r: master.PriceRuleRow) -> dict:
    rule = r.rule
    return {
        "id": str(rule.id),
        "clientId": str(rule.client_id) if rule.client_id else None,
        "clientName": r.client_name or None,
        "repairCodeId": str(rule.repair_code_id) if rule.repair_code_id else None,
        "repairCode": r.code or None,
        "repairCodeName": r.code_name or None,
        "deviceModelId": str(rule.device_model_id) if rule.device_model_id else None,
        "deviceModel": r.model_name or None,
        "price": str(rule.price),
        "validFrom": rule.valid_from,
        "validTo": rule.valid_to,
        "description": rule.description,
        "kind": r.specificity,
        "createdAt": rule.created_at,
    }


class ActiveBody(BaseModel):
    active: bool


# --- repair clients ---------------------------------------------------------------------------------


class ClientBody(BaseModel):
    name: str = Field(max_length=400)
    contactName: str = Field("", max_length=400)
    email: str = Field("", max_length=400)
    phone: str = Field("", max_length=100)
    billingAddress: str = Field("", max_length=2000)
    country: str = Field("", max_length=10)
    vatNumber: str = Field("", max_length=80)
    paymentTermsDays: int = 30
    currency: str = Field("EUR", max_length=10)
    berThresholdPercent: int = 70
    notes: str = Field("", max_length=4000)

    def data(self) -> master.ClientData:
        return master.ClientData(
            name=self.name,
            contact_name=self.contactName,
            email=self.email,
            phone=self.phone,
            billing_address=self.billingAddress,
            country=self.country,
            vat_number=self.vatNumber,
            payment_terms_days=self.paymentTermsDays,
            currency=self.currency,
            ber_threshold_percent=self.berThresholdPercent,
            notes=self.notes,
        )


@router.get("/repairs/clients")
def list_clients(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    active: Active = "",
    sort: Literal["name", "currency", "terms", "ber", "created"] = "name",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    f = master.ListFilter(
        search=search, active=active, sort=sort, descending=descending, page=page, page_size=page_size
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = master.list_clients(s, f)
        return _page(total, page, page_size, "clients", [client_json(c) for c in rows])


@router.post("/repairs/clients", status_code=201)
def create_client(body: ClientBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        client = master.create_client(s, body.data(), actor=principal)
        s.commit()
        return client_json(client)


@router.get("/repairs/clients/{client_id}")
def get_client(client_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return client_json(master.get_client(s, client_id))


@router.put("/repairs/clients/{client_id}")
def update_client(client_id: uuid.UUID, body: ClientBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        client = master.update_client(s, client_id, body.data(), actor=principal)
        s.commit()
        return client_json(client)


@router.put("/repairs/clients/{client_id}/active")
def set_client_active(client_id: uuid.UUID, body: ActiveBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        client = master.set_client_active(s, client_id, body.active, actor=principal)
        s.commit()
        return client_json(client)


@router.delete("/repairs/clients/{client_id}", status_code=204)
def delete_client(client_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> None:
    with tenant_session(principal.tenant_id) as s:
        master.delete_client(s, client_id, actor=principal)
        s.commit()


# --- device models ----------------------------------------------------------------------------------


class DeviceBody(BaseModel):
    manufacturer: str = Field(max_length=200)
    model: str = Field(max_length=400)
    category: str = Field("phone", max_length=20)
    variants: list[str] = Field(default_factory=list, max_length=100)
    typicalValue: Decimal = Field(Decimal("0"), ge=0, le=MAX_MONEY)

    def data(self) -> master.DeviceModelData:
        return master.DeviceModelData(
            manufacturer=self.manufacturer,
            model=self.model,
            category=self.category,
            variants=self.variants,
            typical_value=self.typicalValue,
        )


@router.get("/repairs/device-models")
def list_device_models(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    active: Active = "",
    category: Literal["", "phone", "tablet", "laptop", "other"] = "",
    sort: Literal["manufacturer", "model", "category", "value", "created"] = "manufacturer",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    f = master.DeviceFilter(
        search=search,
        active=active,
        category=category,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = master.list_device_models(s, f)
        return _page(total, page, page_size, "deviceModels", [device_json(d) for d in rows])


@router.post("/repairs/device-models", status_code=201)
def create_device_model(body: DeviceBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        dm = master.create_device_model(s, body.data(), actor=principal)
        s.commit()
        return device_json(dm)


@router.get("/repairs/device-models/{model_id}")
def get_device_model(model_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return device_json(master.get_device_model(s, model_id))


@router.put("/repairs/device-models/{model_id}")
def update_device_model(model_id: uuid.UUID, body: DeviceBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        dm = master.update_device_model(s, model_id, body.data(), actor=principal)
        s.commit()
        return device_json(dm)


@router.put("/repairs/device-models/{model_id}/active")
def set_device_model_active(
    model_id: uuid.UUID, body: ActiveBody, principal: Principal = Depends(require(WRITE))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        dm = master.set_device_model_active(s, model_id, body.active, actor=principal)
        s.commit()
        return device_json(dm)


@router.delete("/repairs/device-models/{model_id}", status_code=204)
def delete_device_model(model_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> None:
    with tenant_session(principal.tenant_id) as s:
        master.delete_device_model(s, model_id, actor=principal)
        s.commit()


# --- teams --------------------------------------------------------------------------------------------


class TeamBody(BaseModel):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=1000)


@router.get("/repairs/teams")
def list_teams(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    active: Active = "",
    sort: Literal["name", "members", "created"] = "name",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    f = master.ListFilter(
        search=search, active=active, sort=sort, descending=descending, page=page, page_size=page_size
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = master.list_teams(s, f)
        return _page(total, page, page_size, "teams", [team_json(r.team, r.members) for r in rows])


@router.post("/repairs/teams", status_code=201)
def create_team(body: TeamBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        team = master.create_team(s, master.TeamData(body.name, body.description), actor=principal)
        s.commit()
        return team_json(team)


@router.put("/repairs/teams/{team_id}")
def update_team(team_id: uuid.UUID, body: TeamBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        team = master.update_team(s, team_id, master.TeamData(body.name, body.description), actor=principal)
        s.commit()
        return team_json(team)


@router.put("/repairs/teams/{team_id}/active")
def set_team_active(team_id: uuid.UUID, body: ActiveBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        team = master.set_team_active(s, team_id, body.active, actor=principal)
        s.commit()
        return team_json(team)


@router.delete("/repairs/teams/{team_id}", status_code=204)
def delete_team(team_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> None:
    with tenant_session(principal.tenant_id) as s:
        master.delete_team(s, team_id, actor=principal)
        s.commit()


# --- technicians ----------------------------------------------------------------------------------


class TechnicianBody(BaseModel):
    name: str = Field(max_length=400)
    email: str = Field("", max_length=400)
    userId: uuid.UUID | None = None
    teamId: uuid.UUID | None = None
    hourlyRate: Decimal = Field(Decimal("0"), ge=0, le=MAX_MONEY)

    def data(self) -> master.TechnicianData:
        return master.TechnicianData(
            name=self.name, email=self.email, user_id=self.userId, team_id=self.teamId, hourly_rate=self.hourlyRate
        )


@router.get("/repairs/technicians")
def list_technicians(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    active: Active = "",
    team: str = Query("", max_length=40, description="a team's id, or 'none' for technicians without a team"),
    sort: Literal["name", "team", "rate", "created"] = "name",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    f = master.TechnicianFilter(
        search=search, active=active, team_id=team, sort=sort, descending=descending, page=page, page_size=page_size
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = master.list_technicians(s, f)
        items = [technician_json(r.technician, r.team_name, r.user_name) for r in rows]
        return _page(total, page, page_size, "technicians", items)


@router.post("/repairs/technicians", status_code=201)
def create_technician(body: TechnicianBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        tech = master.create_technician(s, body.data(), actor=principal)
        s.commit()
        return technician_json(tech)


@router.get("/repairs/technicians/{technician_id}")
def get_technician(technician_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return technician_json(master.get_technician(s, technician_id))


@router.put("/repairs/technicians/{technician_id}")
def update_technician(
    technician_id: uuid.UUID, body: TechnicianBody, principal: Principal = Depends(require(WRITE))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        tech = master.update_technician(s, technician_id, body.data(), actor=principal)
        s.commit()
        return technician_json(tech)


@router.put("/repairs/technicians/{technician_id}/active")
def set_technician_active(
    technician_id: uuid.UUID, body: ActiveBody, principal: Principal = Depends(require(WRITE))
) -> dict:
    with tenant_session(principal.tenant_id) as s:
        tech = master.set_technician_active(s, technician_id, body.active, actor=principal)
        s.commit()
        return technician_json(tech)


@router.delete("/repairs/technicians/{technician_id}", status_code=204)
def delete_technician(technician_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> None:
    with tenant_session(principal.tenant_id) as s:
        master.delete_technician(s, technician_id, actor=principal)
        s.commit()


# --- repair codes ---------------------------------------------------------------------------------


class CodeBody(BaseModel):
    code: str = Field(max_length=80)
    name: str = Field(max_length=400)
    category: str = Field("other", max_length=40)
    defaultLabourMinutes: int = 30

    def data(self) -> master.CodeData:
        return master.CodeData(
            code=self.code, name=self.name, category=self.category, default_labour_minutes=self.defaultLabourMinutes
        )


@router.get("/repairs/repair-codes")
def list_codes(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    active: Active = "",
    origin: Literal["", "canonical", "shop"] = "",
    category: str = Query("", max_length=40),
    sort: Literal["code", "name", "category", "minutes"] = "code",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(50, ge=1, le=200, alias="pageSize"),
) -> dict:
    """The canonical codes and this shop's own."""
    f = master.CodeFilter(
        search=search,
        active=active,
        origin=origin,
        category=category,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = master.list_codes(s, f)
        return _page(total, page, page_size, "repairCodes", [code_json(c) for c in rows])


@router.post("/repairs/repair-codes", status_code=201)
def create_code(body: CodeBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        code = master.create_code(s, body.data(), actor=principal)
        s.commit()
        return code_json(code)


@router.get("/repairs/repair-codes/{code_id}")
def get_code(code_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return code_json(master.get_code(s, code_id))


@router.put("/repairs/repair-codes/{code_id}")
def update_code(code_id: uuid.UUID, body: CodeBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """The shop's own codes only (403 for a canonical code)."""
    with tenant_session(principal.tenant_id) as s:
        code = master.update_code(s, code_id, body.data(), actor=principal)
        s.commit()
        return code_json(code)


@router.put("/repairs/repair-codes/{code_id}/active")
def set_code_active(code_id: uuid.UUID, body: ActiveBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        code = master.set_code_active(s, code_id, body.active, actor=principal)
        s.commit()
        return code_json(code)


@router.delete("/repairs/repair-codes/{code_id}", status_code=204)
def delete_code(code_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> None:
    with tenant_session(principal.tenant_id) as s:
        master.delete_code(s, code_id, actor=principal)
        s.commit()


# --- price rules -------------------------------------------------------------------------------------


class RuleBody(BaseModel):
    price: Decimal = Field(ge=0, le=MAX_MONEY)
    clientId: uuid.UUID | None = None
    repairCodeId: uuid.UUID | None = None
    deviceModelId: uuid.UUID | None = None
    validFrom: date | None = None
    validTo: date | None = None
    description: str = Field("", max_length=400)

    def data(self) -> master.PriceRuleData:
        return master.PriceRuleData(
            price=self.price,
            client_id=self.clientId,
            repair_code_id=self.repairCodeId,
            device_model_id=self.deviceModelId,
            valid_from=self.validFrom,
            valid_to=self.validTo,
            description=self.description,
        )


@router.get("/repairs/price-rules")
def list_price_rules(
    principal: Principal = Depends(require(READ)),
    search: str = Query("", max_length=MAX_SEARCH),
    client: str = Query("", max_length=40, description="a client's id, or 'default' for rules for every client"),
    on: date | None = Query(None, description="only the rules valid on this day"),
    sort: Literal["client", "code", "model", "price", "valid_from"] = "client",
    descending: bool = False,
    page: int = Query(0, ge=0, le=100_000),
    page_size: int = Query(25, ge=1, le=200, alias="pageSize"),
) -> dict:
    f = master.PriceRuleFilter(
        search=search, client_id=client, on=on, sort=sort, descending=descending, page=page, page_size=page_size
    )
    with tenant_session(principal.tenant_id) as s:
        rows, total = master.list_price_rules(s, f)
        return _page(total, page, page_size, "priceRules", [rule_json(r) for r in rows])


@router.post("/repairs/price-rules", status_code=201)
def create_price_rule(body: RuleBody, principal: Principal = Depends(require(WRITE))) -> dict:
    """409 when a rule for the same client, code and model overlaps the dates."""
    with tenant_session(principal.tenant_id) as s:
        rule = master.create_price_rule(s, body.data(), actor=principal)
        s.commit()
        return rule_json(master.get_price_rule(s, rule.id))


@router.get("/repairs/price-rules/{rule_id}")
def get_price_rule(rule_id: uuid.UUID, principal: Principal = Depends(require(READ))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        return rule_json(master.get_price_rule(s, rule_id))


@router.put("/repairs/price-rules/{rule_id}")
def update_price_rule(rule_id: uuid.UUID, body: RuleBody, principal: Principal = Depends(require(WRITE))) -> dict:
    with tenant_session(principal.tenant_id) as s:
        master.update_price_rule(s, rule_id, body.data(), actor=principal)
        s.commit()
        return rule_json(master.get_price_rule(s, rule_id))


@router.delete("/repairs/price-rules/{rule_id}", status_code=204)
def delete_price_rule(rule_id: uuid.UUID, principal: Principal = Depends(require(WRITE))) -> None:
    with tenant_session(principal.tenant_id) as s:
        master.delete_price_rule(s, rule_id, actor=principal)
        s.commit()


@router.get("/repairs/prices/lookup")
def price_lookup(
    principal: Principal = Depends(require(READ)),
    client_id: uuid.UUID | None = Query(None, alias="clientId"),
    repair_code_id: uuid.UUID | None = Query(None, alias="repairCodeId"),
    device_model_id: uuid.UUID | None = Query(None, alias="deviceModelId"),
    on: date | None = None,
) -> dict:
    """The price the most specific rule valid on the day gives (null: no rule applies), and that rule."""
    with tenant_session(principal.tenant_id) as s:
        rule = master.rule_for(
            s, client_id=client_id, repair_code_id=repair_code_id, device_model_id=device_model_id, on=on
        )
        return {
            "price": str(rule.price) if rule else None,
            "rule": rule_json(master.get_price_rule(s, rule.id)) if rule else None,
        }
