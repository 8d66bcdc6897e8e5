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


def schema_for(rng: random.Random) -> Schema:
    return rng.choice(SCHEMAS)


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
