"""An offline persona library: role x domain x situation x preferences, deterministic by index.

The ClawGym authors drew personas from a PersonaHub-style list that is not public; we compose
them from small hand-written lists instead, so every machine derives the same persona from the
same index and no download is needed. ``persona(i)`` for i in range(PERSONA_COUNT) are distinct.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

ROLES = (
    "operations manager", "freelance data analyst", "high-school teacher", "clinic office coordinator",
    "indie game developer", "small-bakery owner", "graduate student in ecology", "HR generalist",
    "site reliability engineer", "event planner", "procurement officer", "nonprofit program lead",
    "product manager", "bookkeeper", "research librarian", "QA engineer", "real-estate agent",
    "newsroom editor", "logistics dispatcher", "community garden organizer", "IT administrator",
    "marketing coordinator", "lab technician", "travel agent", "museum archivist",
)
DOMAINS = (
    "a regional hospital network", "a two-person design studio", "a public school district",
    "an e-commerce startup", "a city transit agency", "a family-run restaurant group",
    "an open-source project", "a university research lab", "a logistics warehouse",
    "a community theater", "a veterinary practice", "a solar-panel installer", "a law office",
    "a local newspaper", "a bike-sharing service", "a food bank", "a dental clinic",
    "a mid-size SaaS company", "a public library", "a coffee roastery",
)
SITUATIONS = (
    "preparing for a Monday review", "cleaning up after a busy quarter", "onboarding a new colleague",
    "getting ready for an audit", "catching up after a week off", "planning next month's work",
    "answering a question from their manager", "tidying shared files before a handover",
    "preparing a report for a board meeting", "fixing a process that keeps breaking",
)
PREFERENCES = (
    "I like concise, bullet-pointed summaries.", "I want every number traceable to a source file.",
    "I prefer plain language over jargon.", "I care about consistent file naming.",
    "I want the most urgent items first.", "I always double-check totals.",
    "I prefer ISO dates (YYYY-MM-DD).", "I keep a friendly but professional tone.",
)
FIRST_NAMES = (
    "Amara", "Ben", "Chen", "Dana", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kavya", "Luca",
    "Maya", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tomas", "Uma", "Victor", "Wen", "Yara", "Zoe",
)
LAST_NAMES = (
    "Okafor", "Lindqvist", "Nakamura", "Moreau", "Haddad", "Kowalski", "Reyes", "Novak", "Osei", "Brennan",
    "Castillo", "Petrov", "Ahmed", "Fischer", "Silva", "Tanaka", "Dubois", "Mensah", "Rossi", "Varga",
)

PERSONA_COUNT = len(ROLES) * len(DOMAINS) * len(SITUATIONS) * len(PREFERENCES)


@dataclass(frozen=True)
class Persona:
    index: int
    name: str
    role: str
    domain: str
    situation: str
    preference: str

    @property
    def a_role(self) -> str:
        """The role with its article ('an HR generalist' is rare enough to ignore)."""
        return ("an " if self.role[0] in "aeiouAEIOU" else "a ") + self.role

    def describe(self) -> str:
        return f"{self.name}, {self.a_role} at {self.domain}"


@lru_cache(maxsize=4096)
def persona(index: int) -> Persona:
    """The ``index``-th persona (mixed-radix over the four lists, so all are distinct)."""
    i = index % PERSONA_COUNT
    i, pref = divmod(i, len(PREFERENCES))
    i, sit = divmod(i, len(SITUATIONS))
    role, dom = divmod(i, len(DOMAINS))
    rng = random.Random(f"persona-name-{index}")
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return Persona(index, name, ROLES[role % len(ROLES)], DOMAINS[dom], SITUATIONS[sit], PREFERENCES[pref])
