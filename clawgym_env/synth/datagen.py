"""Realistic record tables from a seeded RNG: the raw material most operations start from.

Each schema is a kind of business record (invoices, tickets, shipments, ...) with an id column, a
few text columns, a category column and numeric columns, so any filter / rank / aggregate / join
operation can apply to any of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from clawgym_env.synth.artifacts import Row, Table

PEOPLE = ("Alice Moreno", "Bilal Khan", "Chiara Bianchi", "Deng Wei", "Erik Larsen", "Fatima Zahra",
          "Gabriel Costa", "Hana Sato", "Ivan Petrov", "Julia Nowak", "Kofi Mensah", "Lena Vogel",
          "Marco Ruiz", "Noor Aziz", "Olga Ivanova", "Pablo Ortiz", "Rina Tanaka", "Sven Olsen")
CITIES = ("Lisbon", "Nairobi", "Osaka", "Toronto", "Krakow", "Austin", "Lyon", "Pune", "Bogota", "Oslo",
          "Leeds", "Perth")
COMPANIES = ("Acme Supplies", "Bluefin Logistics", "Cedar & Co", "Delta Print", "Evergreen Foods",
             "Falcon IT", "Granite Labs", "Harbor Office", "Ivory Textiles", "Juniper Energy")


@dataclass(frozen=True)
class Column:
    name: str
    make: Callable[[random.Random, int], object]
    numeric: bool = False


@dataclass(frozen=True)
class Schema:
    label: str
    """Plural noun for the records ('invoices')."""
    key: str
    category: str
    columns: tuple[Column, ...]
    base_name: str
    """File stem used for inputs ('invoices')."""


def _date(rng: random.Random, _: int) -> str:
    return (date(2026, 1, 1) + timedelta(days=rng.randrange(0, 300))).isoformat()


def _money(lo: int, hi: int) -> Callable[[random.Random, int], float]:
    return lambda rng, _: round(rng.uniform(lo, hi), 2)


def _int(lo: int, hi: int) -> Callable[[random.Random, int], int]:
    return lambda rng, _: rng.randint(lo, hi)


def _pick(options: tuple[str, ...]) -> Callable[[random.Random, int], str]:
    return lambda rng, _: rng.choice(options)


def _ident(prefix: str) -> Callable[[random.Random, int], str]:
    return lambda rng, i: f"{prefix}-{1000 + i * 7 + rng.randrange(0, 7)}"


SCHEMAS: tuple[Schema, ...] = (
    Schema("invoices", "invoice_id", "status", (
        Column("invoice_id", _ident("INV")), Column("vendor", _pick(COMPANIES)), Column("issued", _date),
        Column("status", _pick(("paid", "open", "overdue"))), Column("amount", _money(80, 4800), True),
        Column("days_late", _int(0, 60), True)), "invoices"),
    Schema("support tickets", "ticket_id", "priority", (
        Column("ticket_id", _ident("TCK")), Column("customer", _pick(COMPANIES)), Column("opened", _date),
        Column("priority", _pick(("low", "medium", "high", "urgent"))), Column("hours_open", _int(1, 240), True),
        Column("replies", _int(0, 14), True)), "tickets"),
    Schema("shipments", "shipment_id", "carrier", (
        Column("shipment_id", _ident("SHP")), Column("destination", _pick(CITIES)), Column("shipped", _date),
        Column("carrier", _pick(("DHL", "UPS", "FedEx", "PostNL"))), Column("weight_kg", _money(1, 250), True),
        Column("cost", _money(12, 900), True)), "shipments"),
    Schema("inventory items", "sku", "warehouse", (
        Column("sku", _ident("SKU")), Column("item", _pick(("stapler", "monitor", "desk lamp", "cable kit",
                                                          "chair", "notebook", "headset", "router"))),
        Column("warehouse", _pick(("north", "south", "east", "west"))), Column("on_hand", _int(0, 500), True),
        Column("reorder_level", _int(10, 120), True), Column("unit_cost", _money(2, 320), True)), "inventory"),
    Schema("expense claims", "claim_id", "category", (
        Column("claim_id", _ident("EXP")), Column("employee", _pick(PEOPLE)), Column("submitted", _date),
        Column("category", _pick(("travel", "meals", "software", "training", "office"))),
        Column("amount", _money(5, 1900), True), Column("receipts", _int(0, 6), True)), "expenses"),
    Schema("workshop registrations", "registration_id", "track", (
        Column("registration_id", _ident("REG")), Column("attendee", _pick(PEOPLE)), Column("city", _pick(CITIES)),
        Column("track", _pick(("data", "design", "security", "leadership"))), Column("fee", _money(0, 450), True),
        Column("sessions", _int(1, 8), True)), "registrations"),
    Schema("lab samples", "sample_id", "site", (
        Column("sample_id", _ident("SMP")), Column("collector", _pick(PEOPLE)), Column("collected", _date),
        Column("site", _pick(("river", "meadow", "forest", "wetland"))), Column("ph", _money(4, 9), True),
        Column("nitrate_mg_l", _money(0, 45), True)), "samples"),
    Schema("server incidents", "incident_id", "service", (
        Column("incident_id", _ident("INC")), Column("owner", _pick(PEOPLE)), Column("started", _date),
        Column("service", _pick(("api", "billing", "search", "auth", "storage"))),
        Column("minutes_down", _int(1, 600), True), Column("users_affected", _int(0, 20000), True)), "incidents"),
)


V2_SCHEMAS: tuple[Schema, ...] = (
    Schema("patient appointments", "appointment_id", "department", (
        Column("appointment_id", _ident("APT")), Column("clinician", _pick(PEOPLE)), Column("scheduled", _date),
        Column("department", _pick(("cardiology", "orthopedics", "pediatrics", "radiology"))),
        Column("wait_minutes", _int(0, 95), True), Column("duration_min", _int(10, 60), True)), "appointments"),
    Schema("client projects", "project_id", "phase", (
        Column("project_id", _ident("PRJ")), Column("client", _pick(COMPANIES)), Column("due", _date),
        Column("phase", _pick(("brief", "concept", "revisions", "delivered"))), Column("budget", _money(400, 9000), True),
        Column("hours_logged", _int(2, 160), True)), "projects"),
    Schema("student assessments", "assessment_id", "subject", (
        Column("assessment_id", _ident("ASM")), Column("student", _pick(PEOPLE)), Column("taken", _date),
        Column("subject", _pick(("math", "biology", "history", "english"))), Column("score", _int(31, 100), True),
        Column("absences", _int(0, 12), True)), "assessments"),
    Schema("customer orders", "order_id", "channel", (
        Column("order_id", _ident("ORD")), Column("customer", _pick(PEOPLE)), Column("ordered", _date),
        Column("channel", _pick(("web", "app", "marketplace", "phone"))), Column("total", _money(9, 640), True),
        Column("items", _int(1, 12), True)), "orders"),
    Schema("bus trips", "trip_id", "route", (
        Column("trip_id", _ident("TRP")), Column("driver", _pick(PEOPLE)), Column("run_date", _date),
        Column("route", _pick(("R1", "R4", "R7", "R12", "X2"))), Column("riders", _int(3, 180), True),
        Column("delay_minutes", _int(0, 45), True)), "trips"),
    Schema("menu sales", "sale_id", "location", (
        Column("sale_id", _ident("SAL")), Column("dish", _pick(("risotto", "ramen", "falafel wrap", "margherita",
                                                              "fish tacos", "lentil soup", "steak frites"))),
        Column("sold_on", _date), Column("location", _pick(("harbor", "old town", "station", "campus"))),
        Column("covers", _int(1, 60), True), Column("revenue", _money(12, 1400), True)), "sales"),
    Schema("pull requests", "pr_id", "area", (
        Column("pr_id", _ident("PR")), Column("author", _pick(PEOPLE)), Column("opened", _date),
        Column("area", _pick(("docs", "parser", "cli", "network", "tests"))), Column("lines_changed", _int(1, 1800), True),
        Column("review_hours", _int(0, 96), True)), "pull_requests"),
    Schema("experiment runs", "run_id", "instrument", (
        Column("run_id", _ident("RUN")), Column("operator", _pick(PEOPLE)), Column("run_date", _date),
        Column("instrument", _pick(("spectrometer", "centrifuge", "sequencer", "microscope"))),
        Column("duration_min", _int(5, 480), True), Column("yield_pct", _money(12, 99), True)), "runs"),
    Schema("ticket sales", "booking_id", "production", (
        Column("booking_id", _ident("BKG")), Column("patron", _pick(PEOPLE)), Column("show_date", _date),
        Column("production", _pick(("Hamlet", "Our Town", "The Seagull", "Cabaret"))), Column("seats", _int(1, 8), True),
        Column("paid", _money(15, 420), True)), "bookings"),
    Schema("pet visits", "visit_id", "species", (
        Column("visit_id", _ident("VST")), Column("owner", _pick(PEOPLE)), Column("visit_date", _date),
        Column("species", _pick(("dog", "cat", "rabbit", "parrot"))), Column("fee", _money(35, 680), True),
        Column("weight_kg", _money(0, 48), True)), "visits"),
    Schema("solar installations", "install_id", "region", (
        Column("install_id", _ident("INS")), Column("customer", _pick(PEOPLE)), Column("installed", _date),
        Column("region", _pick(("coastal", "valley", "uplands", "metro"))), Column("panels", _int(6, 64), True),
        Column("capacity_kw", _money(2, 26), True)), "installations"),
    Schema("case files", "case_id", "practice_area", (
        Column("case_id", _ident("CAS")), Column("client", _pick(COMPANIES)), Column("opened", _date),
        Column("practice_area", _pick(("employment", "property", "contracts", "family"))),
        Column("billable_hours", _int(1, 220), True), Column("fees", _money(300, 48000), True)), "cases"),
    Schema("articles", "article_id", "section", (
        Column("article_id", _ident("ART")), Column("author", _pick(PEOPLE)), Column("published", _date),
        Column("section", _pick(("local", "business", "sports", "culture"))), Column("words", _int(250, 2400), True),
        Column("page_views", _int(40, 52000), True)), "articles"),
    Schema("bike rentals", "rental_id", "bike_type", (
        Column("rental_id", _ident("RNT")), Column("station", _pick(("Central", "Riverside", "Market St", "Old Mill",
                                                                   "University"))),
        Column("rented", _date), Column("bike_type", _pick(("classic", "electric", "cargo"))),
        Column("minutes", _int(2, 240), True), Column("fare", _money(1, 38), True)), "rentals"),
    Schema("donations", "donation_id", "food_type", (
        Column("donation_id", _ident("DON")), Column("donor", _pick(COMPANIES)), Column("received", _date),
        Column("food_type", _pick(("produce", "canned", "dairy", "bakery", "dry goods"))),
        Column("weight_kg", _money(2, 900), True), Column("pallets", _int(0, 9), True)), "donations"),
    Schema("subscriptions", "account_id", "plan", (
        Column("account_id", _ident("ACC")), Column("company", _pick(COMPANIES)), Column("renewed", _date),
        Column("plan", _pick(("starter", "team", "business", "enterprise"))), Column("seats", _int(1, 400), True),
        Column("mrr", _money(19, 12000), True)), "subscriptions"),
    Schema("book loans", "loan_id", "genre", (
        Column("loan_id", _ident("LON")), Column("borrower", _pick(PEOPLE)), Column("borrowed", _date),
        Column("genre", _pick(("fiction", "history", "science", "children", "travel"))), Column("days_out", _int(1, 60), True),
        Column("renewals", _int(0, 4), True)), "loans"),
    Schema("roast batches", "batch_id", "roast_level", (
        Column("batch_id", _ident("BAT")), Column("origin", _pick(("Ethiopia", "Colombia", "Sumatra", "Guatemala",
                                                                 "Kenya"))),
        Column("roasted", _date), Column("roast_level", _pick(("light", "medium", "dark"))),
        Column("green_kg", _money(5, 60), True), Column("loss_pct", _money(11, 19), True)), "batches"),
)
"""Record kinds builtin-v2 adds, so a task's data belongs to its persona's workplace (see
:data:`DOMAIN_SCHEMAS`); builtin-v1 draws from :data:`SCHEMAS` alone."""

_BY_LABEL = {s.label: s for s in SCHEMAS + V2_SCHEMAS}
DOMAIN_SCHEMAS: dict[str, tuple[str, ...]] = {
    "a regional hospital network": ("patient appointments", "lab samples", "inventory items", "expense claims"),
    "a two-person design studio": ("client projects", "invoices", "expense claims"),
    "a public school district": ("student assessments", "workshop registrations", "expense claims"),
    "an e-commerce startup": ("customer orders", "support tickets", "shipments", "inventory items"),
    "a city transit agency": ("bus trips", "server incidents", "expense claims"),
    "a family-run restaurant group": ("menu sales", "inventory items", "invoices"),
    "an open-source project": ("pull requests", "support tickets", "server incidents"),
    "a university research lab": ("experiment runs", "lab samples", "expense claims"),
    "a logistics warehouse": ("shipments", "inventory items", "invoices"),
    "a community theater": ("ticket sales", "workshop registrations", "expense claims"),
    "a veterinary practice": ("pet visits", "inventory items", "invoices"),
    "a solar-panel installer": ("solar installations", "invoices", "inventory items"),
    "a law office": ("case files", "invoices", "expense claims"),
    "a local newspaper": ("articles", "expense claims", "invoices"),
    "a bike-sharing service": ("bike rentals", "support tickets", "server incidents"),
    "a food bank": ("donations", "shipments", "inventory items"),
    "a dental clinic": ("patient appointments", "invoices", "inventory items"),
    "a mid-size SaaS company": ("subscriptions", "support tickets", "server incidents"),
    "a public library": ("book loans", "workshop registrations", "expense claims"),
    "a coffee roastery": ("roast batches", "customer orders", "shipments"),
}
"""builtin-v2: the record kinds each workplace keeps (its own kind first, shared office records after)."""


def schema_for(rng: random.Random, domain: str | None = None) -> Schema:
    """A record kind: any of builtin-v1's (``domain`` None), or one kept at ``domain`` (builtin-v2)."""
    if domain is None:
        return rng.choice(SCHEMAS)
    return _BY_LABEL[rng.choice(DOMAIN_SCHEMAS[domain])]


def make_rows(rng: random.Random, schema: Schema, n: int) -> list[Row]:
    """``n`` records with unique keys."""
    rows = []
    for i in range(n):
        rows.append({c.name: c.make(rng, i) for c in schema.columns})
    return rows


def make_table(rng: random.Random, schema: Schema, n: int, path: str, fmt: str = "csv") -> Table:
    return Table(
        columns=[c.name for c in schema.columns], rows=make_rows(rng, schema, n), path=path, fmt=fmt,  # type: ignore[arg-type]
        label=schema.label, key=schema.key, numeric=[c.name for c in schema.columns if c.numeric],
        category=schema.category,
    )
