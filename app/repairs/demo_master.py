"""Demo master data for the repair desk: three clients (a phone insurer, a
school district, a refurbisher) with VAT numbers and payment terms, twelve
device models with their variants and typical values, two teams with five
technicians, three repair codes of the shop's own and fifteen price rules
(defaults, and the clients' own prices). Written through the real service.

Idempotent: each row is looked up by its natural key (a client's name, a
model's maker and name, a code) and only what is missing is added.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from app.platform.auth import Principal
from app.platform.db import session_tenant_id
from app.platform.permissions import PERMISSIONS
from app.repairs.models import DeviceModel, PriceRule, RepairClient, RepairCode, RepairTeam, Technician
from app.repairs.service import master

CLIENTS: tuple[master.ClientData, ...] = (
    master.ClientData(
        name="SafeHands Phone Insurance",
        contact_name="Marieke de Vries",
        email="claims-repairs@safehands.example",
        phone="+31 20 555 0142",
        billing_address="SafeHands Verzekeringen B.V.\nAccounts payable\nHerengracht 210\n1016 BS Amsterdam",
        country="NL",
        vat_number="NL853076979B01",
        payment_terms_days=30,
        currency="EUR",
        ber_threshold_percent=65,
        notes="Claims reference on every invoice line. BER decisions need their adjuster's approval.",
    ),
    master.ClientData(
        name="Rhine Valley School District",
        contact_name="Jonas Becker",
        email="it-service@rvsd.example",
        phone="+49 221 555 7781",
        billing_address="Schulverband Rheintal\nIT-Service\nAm Domhof 4\n50667 Köln",
        country="DE",
        vat_number="DE811569869",
        payment_terms_days=45,
        currency="EUR",
        ber_threshold_percent=80,
        notes="Chromebooks and iPads from 14 schools; batches arrive after every term.",
    ),
    master.ClientData(
        name="Second Wave Refurb Ltd",
        contact_name="Priya Shah",
        email="ops@secondwave.example",
        phone="+44 161 555 0199",
        billing_address="Second Wave Refurb Ltd\nUnit 7, Trafford Park\nManchester M17 1AB",
        country="GB",
        vat_number="GB123456789",
        payment_terms_days=14,
        currency="GBP",
        ber_threshold_percent=50,
        notes="Grades B and C trade-ins; only repairs that keep the resale margin.",
    ),
)

# manufacturer, model, category, variants, typical value
DEVICES: tuple[tuple[str, str, str, list[str], str], ...] = (
    ("Apple", "iPhone 12", "phone", ["64 GB", "128 GB", "256 GB"], "260.00"),
    ("Apple", "iPhone 13", "phone", ["128 GB", "256 GB", "512 GB"], "360.00"),
    ("Apple", "iPhone 14 Pro", "phone", ["128 GB", "256 GB", "512 GB", "1 TB"], "620.00"),
    ("Samsung", "Galaxy S21", "phone", ["128 GB", "256 GB"], "240.00"),
    ("Samsung", "Galaxy A54", "phone", ["128 GB", "256 GB"], "190.00"),
    ("Google", "Pixel 7", "phone", ["128 GB", "256 GB"], "280.00"),
    ("Apple", "iPad 9th gen", "tablet", ["64 GB Wi-Fi", "256 GB Wi-Fi", "64 GB Cellular"], "230.00"),
    ("Apple", "iPad Air 5", "tablet", ["64 GB", "256 GB"], "420.00"),
    ("Samsung", "Galaxy Tab A8", "tablet", ["32 GB", "64 GB"], "140.00"),
    ("Lenovo", "ThinkPad T14 Gen 2", "laptop", ["i5 / 16 GB / 256 GB", "i7 / 16 GB / 512 GB"], "520.00"),
    ("Apple", "MacBook Air M1", "laptop", ["8 GB / 256 GB", "16 GB / 512 GB"], "640.00"),
    ("Acer", "Chromebook 314", "laptop", ["4 GB / 64 GB", "8 GB / 128 GB"], "180.00"),
)

TEAMS: tuple[tuple[str, str], ...] = (
    ("Phone & tablet bench", "Screens, batteries, ports and cameras on phones and tablets."),
    ("Board & laptop lab", "Micro-soldering, liquid damage and laptops."),
)

# name, e-mail, team, hourly rate (internal cost)
TECHNICIANS: tuple[tuple[str, str, str, str], ...] = (
    ("Sofia Marin", "sofia@repairs.example", "Phone & tablet bench", "28.00"),
    ("Daan Jansen", "daan@repairs.example", "Phone & tablet bench", "26.50"),
    ("Lena Hoffmann", "lena@repairs.example", "Phone & tablet bench", "27.00"),
    ("Tomasz Nowak", "tomasz@repairs.example", "Board & laptop lab", "34.00"),
    ("Aisha Okafor", "aisha@repairs.example", "Board & laptop lab", "36.00"),
)

SHOP_CODES: tuple[master.CodeData, ...] = (
    master.CodeData("HINGE-REPL", "Laptop hinge replacement", "housing", 50),
    master.CodeData("CLEAN-PORTS", "Port and speaker-grille cleaning", "other", 10),
    master.CodeData("ADH-RESEAL", "Water-resistance adhesive reseal", "housing", 20),
)

# price, client (name or None: every client), code, (manufacturer, model) or None, from, to, description
YEAR_START = date(date.today().year, 1, 1)
RULES: tuple[tuple[str, str | None, str | None, tuple[str, str] | None, date | None, date | None, str], ...] = (
    ("79.00", None, "SCR-REPL", None, None, None, "Screen, any model (list price)"),
    ("149.00", None, "SCR-REPL", ("Apple", "iPhone 14 Pro"), None, None, "OLED screen, iPhone 14 Pro"),
    ("119.00", None, "SCR-REPL", ("Apple", "iPhone 13"), None, None, "OLED screen, iPhone 13"),
    ("49.00", None, "BAT-REPL", None, None, None, "Battery, any model"),
    ("45.00", None, "CHG-PORT", None, None, None, "Charging port"),
    ("25.00", None, "SOFTWARE", None, None, None, "Restore and update"),
    ("12.00", None, "DATA-WIPE", None, None, None, "Certified wipe with report"),
    ("65.00", None, "HINGE-REPL", None, None, None, "Laptop hinge"),
    ("35.00", None, None, ("Acer", "Chromebook 314"), None, None, "Chromebook flat-rate service"),
    ("69.00", "SafeHands Phone Insurance", "SCR-REPL", None, YEAR_START, None, "Insurance contract, screens"),
    (
        "135.00",
        "SafeHands Phone Insurance",
        "SCR-REPL",
        ("Apple", "iPhone 14 Pro"),
        YEAR_START,
        None,
        "Insurance contract",
    ),
    ("42.00", "SafeHands Phone Insurance", "BAT-REPL", None, YEAR_START, None, "Insurance contract, batteries"),
    ("59.00", "Rhine Valley School District", "SCR-REPL", None, None, None, "Framework agreement (tablets)"),
    ("29.00", "Rhine Valley School District", None, ("Acer", "Chromebook 314"), None, None, "Chromebook flat rate"),
    ("64.00", "Second Wave Refurb Ltd", "SCR-REPL", None, None, None, "Trade volume price"),
)


def _actor(session: Session) -> Principal:
    return Principal(
        tenant_id=session_tenant_id(session),
        tenant_name="",
        tenant_slug="",
        user_id=None,
        username="demo",
        display_name="Demo",
        roles=("admin",),
        permissions=frozenset(PERMISSIONS),
    )


def load(session: Session) -> None:
    """Add whatever of the demo master data this shop does not have yet (in the caller's transaction)."""
    actor = _actor(session)
    clients = {c.name: c for c in session.exec(select(RepairClient)).all()}
    for data in CLIENTS:
        if data.name not in clients:
            clients[data.name] = master.create_client(session, data, actor=actor)

    models = {(d.manufacturer, d.model): d for d in session.exec(select(DeviceModel)).all()}
    for maker, name, category, variants, value in DEVICES:
        if (maker, name) not in models:
            models[(maker, name)] = master.create_device_model(
                session,
                master.DeviceModelData(maker, name, category, variants=variants, typical_value=Decimal(value)),
                actor=actor,
            )

    teams = {t.name: t for t in session.exec(select(RepairTeam)).all()}
    for name, description in TEAMS:
        if name not in teams:
            teams[name] = master.create_team(session, master.TeamData(name, description), actor=actor)

    technicians = set(session.exec(select(Technician.name)).all())
    for name, email, team, rate in TECHNICIANS:
        if name not in technicians:
            master.create_technician(
                session,
                master.TechnicianData(name, email=email, team_id=teams[team].id, hourly_rate=Decimal(rate)),
                actor=actor,
            )

    codes = {c.code: c for c in session.exec(select(RepairCode)).all() if c.tenant_id is not None}
    for data in SHOP_CODES:
        if data.code not in codes:
            codes[data.code] = master.create_code(session, data, actor=actor)
    by_code = {c.code: c for c in session.exec(select(RepairCode).order_by(col(RepairCode.tenant_id).nulls_first()))}

    if session.exec(select(PriceRule).limit(1)).first() is not None:
        return  # the shop has its prices (the demo's, or its own)
    for price, client, code, model, valid_from, valid_to, description in RULES:
        master.create_price_rule(
            session,
            master.PriceRuleData(
                price=Decimal(price),
                client_id=clients[client].id if client else None,
                repair_code_id=by_code[code].id if code else None,
                device_model_id=models[model].id if model else None,
                valid_from=valid_from,
                valid_to=valid_to,
                description=description,
            ),
            actor=actor,
        )
