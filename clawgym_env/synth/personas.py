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


_ANY = DOMAINS
ROLE_DOMAINS: dict[str, tuple[str, ...]] = {
    "operations manager": _ANY,
    "freelance data analyst": _ANY,
    "high-school teacher": ("a public school district",),
    "clinic office coordinator": ("a regional hospital network", "a veterinary practice", "a dental clinic"),
    "indie game developer": ("a two-person design studio", "an open-source project"),
    "small-bakery owner": ("a family-run restaurant group", "a coffee roastery"),
    "graduate student in ecology": ("a university research lab",),
    "HR generalist": ("a regional hospital network", "a public school district", "an e-commerce startup",
                      "a city transit agency", "a family-run restaurant group", "a logistics warehouse", "a law office",
                      "a local newspaper", "a food bank", "a mid-size SaaS company", "a public library"),
    "site reliability engineer": ("an e-commerce startup", "a city transit agency", "an open-source project",
                                  "a mid-size SaaS company", "a bike-sharing service", "a regional hospital network"),
    "event planner": ("a community theater", "a public library", "a food bank", "a mid-size SaaS company",
                      "a university research lab"),
    "procurement officer": ("a regional hospital network", "a public school district", "a city transit agency",
                            "a logistics warehouse", "a university research lab", "a family-run restaurant group",
                            "a solar-panel installer"),
    "nonprofit program lead": ("a food bank", "a community theater", "a public library", "an open-source project"),
    "product manager": ("an e-commerce startup", "a mid-size SaaS company", "a bike-sharing service",
                        "an open-source project", "a city transit agency"),
    "bookkeeper": ("a two-person design studio", "a family-run restaurant group", "a veterinary practice",
                   "a solar-panel installer", "a law office", "a dental clinic", "a coffee roastery", "a food bank",
                   "a community theater"),
    "research librarian": ("a public library", "a university research lab", "a law office", "a local newspaper"),
    "QA engineer": ("an e-commerce startup", "a mid-size SaaS company", "an open-source project",
                    "a bike-sharing service", "a two-person design studio"),
    "newsroom editor": ("a local newspaper",),
    "logistics dispatcher": ("a logistics warehouse", "a food bank", "a city transit agency", "a bike-sharing service",
                             "an e-commerce startup", "a coffee roastery"),
    "community garden organizer": ("a food bank",),
    "IT administrator": ("a regional hospital network", "a public school district", "a law office", "a public library",
                         "a city transit agency", "a dental clinic", "a mid-size SaaS company",
                         "a university research lab"),
    "marketing coordinator": ("an e-commerce startup", "a mid-size SaaS company", "a coffee roastery",
                              "a community theater", "a family-run restaurant group", "a bike-sharing service",
                              "a solar-panel installer", "a two-person design studio"),
    "lab technician": ("a regional hospital network", "a university research lab", "a dental clinic",
                       "a veterinary practice"),
    "museum archivist": ("a public library", "a local newspaper"),
}
"""builtin-v2: where each role plausibly works (real-estate and travel agents fit none of the
workplaces, so builtin-v2 does not cast them)."""

CATEGORY_ROLES: dict[str, tuple[str, ...]] = {
    "Office & Daily Tasks": ("operations manager", "clinic office coordinator", "HR generalist", "event planner",
                             "bookkeeper", "nonprofit program lead", "small-bakery owner", "marketing coordinator",
                             "procurement officer", "high-school teacher"),
    "Communication & Collaboration": ("marketing coordinator", "newsroom editor", "nonprofit program lead",
                                      "event planner", "product manager", "HR generalist", "community garden organizer",
                                      "operations manager", "clinic office coordinator"),
    "Information Retrieval & Research": ("research librarian", "graduate student in ecology", "freelance data analyst",
                                         "newsroom editor", "museum archivist", "product manager",
                                         "procurement officer", "lab technician"),
    "Analysis & Decision Support": ("freelance data analyst", "bookkeeper", "operations manager", "procurement officer",
                                    "product manager", "logistics dispatcher", "small-bakery owner",
                                    "graduate student in ecology"),
    "Automation & Workflows": ("IT administrator", "site reliability engineer", "operations manager",
                               "logistics dispatcher", "QA engineer", "freelance data analyst"),
    "Software Development": ("indie game developer", "QA engineer", "site reliability engineer", "IT administrator",
                             "product manager", "freelance data analyst"),
    "Systems & Infrastructure": ("site reliability engineer", "IT administrator", "QA engineer", "indie game developer"),
    "Planning & Knowledge Organization": ("research librarian", "museum archivist", "event planner",
                                          "high-school teacher", "product manager", "nonprofit program lead",
                                          "operations manager", "graduate student in ecology",
                                          "community garden organizer"),
    "Reasoning & Professional Domains": ("lab technician", "graduate student in ecology", "freelance data analyst",
                                         "site reliability engineer", "bookkeeper", "clinic office coordinator",
                                         "QA engineer", "procurement officer"),
}
"""builtin-v2: the roles that would ask for each scenario category's work."""


def persona_for(rng: random.Random, category: str) -> Persona:
    """builtin-v2: a persona whose role does the ``category``'s work at a workplace that has that
    role. It is ``persona(index)`` for the index it reports, so ``persona_index`` still rebuilds it."""
    role = rng.choice(CATEGORY_ROLES[category])
    domain = rng.choice(ROLE_DOMAINS[role])
    situation, preference = rng.randrange(len(SITUATIONS)), rng.randrange(len(PREFERENCES))
    index = ((ROLES.index(role) * len(DOMAINS) + DOMAINS.index(domain)) * len(SITUATIONS) + situation) \
        * len(PREFERENCES) + preference
    return persona(index)


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
