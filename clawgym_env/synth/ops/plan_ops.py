"""Planning and knowledge organization operations: schedules from task graphs, indexes of notes."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from clawgym_env.synth import checks as ck
from clawgym_env.synth.artifacts import Row, Table, describe_format, serialize
from clawgym_env.synth.datagen import PEOPLE
from clawgym_env.synth.ops import decoys
from clawgym_env.synth.ops.base import TABLE_MUTATIONS, OpContext, OpStep, OutputSpec, table_step, write_call
from clawgym_env.synth.phrasing import join_list, pick


# ---------------------------------------------------------------- schedule_plan
# Task names in a sensible working order; dependencies only ever point to earlier names.
_PROJECTS: dict[str, tuple[str, ...]] = {
    "Spring volunteer fair": (
        "Confirm date and venue", "Draft the budget", "Recruit volunteers", "Order supplies", "Design flyers",
        "Print flyers", "Set up registration form", "Arrange catering", "Brief volunteers", "Venue walkthrough",
        "Send reminder emails", "Pack event kits"),
    "Website relaunch": (
        "Collect requirements", "Write content outline", "Design mockups", "Review mockups", "Build page templates",
        "Migrate blog posts", "Set up redirects", "Accessibility review", "Load testing", "Stakeholder sign-off",
        "Launch announcement", "Retrospective"),
    "Office move": (
        "Measure new office", "Get moving quotes", "Choose moving company", "Plan seating chart", "Order new desks",
        "Pack archive boxes", "Move IT equipment", "Set up network", "Update mailing address", "Unpack and label",
        "Hand back old keys", "Welcome breakfast"),
    "Customer survey": (
        "Define research questions", "Draft questionnaire", "Ethics approval", "Pilot questionnaire",
        "Revise questionnaire", "Recruit participants", "Run survey", "Clean responses", "Analyse results",
        "Draft report", "Peer review", "Publish summary"),
}




def _random_deps(rng: random.Random, n: int) -> list[list[int]]:
    """Each of ``n`` tasks' dependencies (indexes of earlier tasks): mostly the step just before
    (names are in working order), sometimes one a little earlier, now and then none or two."""
    deps: list[list[int]] = [[]]
    for i in range(1, n):
        k = 0 if i <= 3 and rng.random() < 0.3 else (2 if i >= 2 and rng.random() < 0.35 else 1)
        first = i - 1 if rng.random() < 0.6 else rng.randrange(max(0, i - 4), i)
        extra = [j for j in range(max(0, i - 4), i) if j != first]
        deps.append(sorted(([first] + rng.sample(extra, min(k - 1, len(extra)))) if k else []))
    return deps
@dataclass
class _Task:
    id: str
    name: str
    owner: str
    duration_days: int
    depends_on: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "owner": self.owner, "duration_days": self.duration_days,
                "depends_on": self.depends_on}


def _yaml_tasks(project: str, start: date, holidays: list[date], tasks: list[_Task]) -> str:
    """The plan as hand-written YAML (flow lists for dependencies, as people write them)."""
    out = [f"project: {project}", f"project_start: {start.isoformat()}"]
    if holidays:
        out.append("holidays:")
        out += [f"  - {h.isoformat()}" for h in holidays]
    out.append("tasks:")
    for t in tasks:
        out += [f"  - id: {t.id}", f"    name: {t.name}", f"    owner: {t.owner}",
                f"    duration_days: {t.duration_days}", f"    depends_on: [{', '.join(t.depends_on)}]"]
    return "\n".join(out) + "\n"


class SchedulePlan:
    """Earliest-start schedule of a small task graph (dependencies, durations, optionally one task at a
    time per owner and a working-day calendar), with every tie broken by an explicit rule."""

    name = "schedule_plan"
    category = "planning_knowledge"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        if ctx.v2 and ctx.difficulty >= 4:
            return _constrained_plan(ctx)
        rng = ctx.rng
        d = ctx.difficulty
        project = rng.choice(sorted(_PROJECTS))
        n = min(4 + d + rng.randrange(0, 3), len(_PROJECTS[project]))
        names = _PROJECTS[project][:n]
        owners = rng.sample(PEOPLE, 2 if d <= 2 else 3)
        ids = [f"T{i:02d}" for i in rng.sample(range(1, n + 1), n)]  # filed in random order: ids are not topological
        deps = _random_deps(rng, n)
        tasks = sorted((_Task(ids[i], names[i], rng.choice(owners), rng.randint(1, 5), sorted(ids[j] for j in deps[i]))
                        for i in range(n)), key=lambda t: t.id)

        one_at_a_time = d >= 3
        start_day: dict[str, int] = {}
        finish_day: dict[str, int] = {}
        owner_free: dict[str, int] = {}
        while len(start_day) < n:  # serial schedule: smallest ready id first
            t = next(t for t in tasks if t.id not in start_day and all(x in finish_day for x in t.depends_on))
            s = max([finish_day[x] for x in t.depends_on] + [0])
            if one_at_a_time:
                s = max(s, owner_free.get(t.owner, 0))
            start_day[t.id], finish_day[t.id] = s, s + t.duration_days
            owner_free[t.owner] = finish_day[t.id]

        project_start = date(2026, 1, 5) + timedelta(weeks=rng.randrange(0, 40))  # a Monday
        horizon = max(finish_day.values())
        holidays: list[date] = []
        if d >= 4:
            span = [project_start + timedelta(days=i) for i in range(1, horizon + horizon // 2 + 2)]
            weekdays = [x for x in span if x.weekday() < 5]
            holidays = sorted(rng.sample(weekdays, min(2, len(weekdays))))
        workdays: list[date] = []
        cur = project_start
        while len(workdays) < horizon + 1:
            if cur.weekday() < 5 and cur not in holidays:
                workdays.append(cur)
            cur += timedelta(days=1)

        with_dates = d >= 2
        columns = ["task_id", "name", "owner", "duration_days", "start_day", "finish_day"]
        if with_dates:
            columns += ["start_date", "end_date"]
        rows: list[Row] = []
        for t in sorted(tasks, key=lambda t: (start_day[t.id], t.id)):
            row: Row = {"task_id": t.id, "name": t.name, "owner": t.owner, "duration_days": t.duration_days,
                        "start_day": start_day[t.id], "finish_day": finish_day[t.id]}
            if with_dates:
                row["start_date"] = workdays[start_day[t.id]].isoformat()
                row["end_date"] = workdays[finish_day[t.id] - 1].isoformat()
            rows.append(row)

        if rng.random() < 0.5:
            src_path = "input/tasks.json"
            doc: dict[str, object] = {"project": project, "project_start": project_start.isoformat()}
            if holidays:
                doc["holidays"] = [h.isoformat() for h in holidays]
            doc["tasks"] = [t.as_dict() for t in tasks]
            source = json.dumps(doc, indent=2) + "\n"
        else:
            src_path = "input/tasks.yaml"
            source = _yaml_tasks(project, project_start, holidays, tasks)
        fmt = rng.choice(("csv", "json"))
        out = Table(columns=columns, rows=rows, path=f"output/step{ctx.step}_schedule.{fmt}", fmt=fmt,  # type: ignore[arg-type]
                    label="scheduled tasks", key="task_id", numeric=["duration_days", "start_day", "finish_day"],
                    category="owner")

        cols = join_list([f"`{c}`" for c in columns])
        rules = [
            "Days are numbered from 0 (day 0 is `project_start`) and count working days only.",
            "A task can start once every task in its `depends_on` has finished: its `start_day` is the largest "
            "`finish_day` among its dependencies (0 if it has none) and `finish_day` = `start_day` + `duration_days`.",
        ]
        if one_at_a_time:
            rules.append(
                "Each owner works on one task at a time, so schedule the tasks one by one: always take, among the "
                "tasks whose dependencies are all scheduled already, the one with the smallest `task_id`; its "
                "`start_day` is the later of its dependencies' largest `finish_day` and the `finish_day` of the task "
                "scheduled last for the same owner (0 if none).")
        if with_dates:
            rules.append(
                "`start_date` is the calendar date of working day `start_day` and `end_date` the date of the task's "
                "last working day (day `finish_day` - 1); working days are Monday to Friday"
                + (", minus the `holidays` listed in the file." if holidays else "."))
        if ctx.v2:
            instruction = _schedule_wording(ctx, src_path, n, out.path, describe_format(fmt), cols, one_at_a_time,
                                            with_dates, bool(holidays))
        else:
            instruction = pick(rng, (
                f"Plan the project in `{src_path}` ({n} tasks with owners, durations in working days and dependencies) "
                f"and write the schedule to `{out.path}` as {describe_format(fmt)} with exactly the columns {cols}, one row "
                f"per task, sorted by `start_day` and then `task_id`. ",
                f"Using the task list in `{src_path}`, compute when each of the {n} tasks runs and save it to "
                f"`{out.path}` ({describe_format(fmt)}; columns {cols} in that order; rows ordered by `start_day`, ties by "
                f"`task_id`). ",
            )) + " ".join(rules)
        step = f"step{ctx.step}"
        checks = [ck.table_equal(f"{step}_schedule", out),
                  ck.table_equal(f"{step}_schedule_days",
                                 Table(["task_id", "start_day", "finish_day"], rows, out.path, fmt),  # type: ignore[arg-type]
                                 ordered=False, exact_columns=False)]
        if with_dates:
            checks.append(ck.table_equal(f"{step}_schedule_dates",
                                         Table(["task_id", "start_date", "end_date"], rows, out.path, fmt),  # type: ignore[arg-type]
                                         ordered=False, exact_columns=False))
        return table_step(self.name, instruction, out, checks, input_files={src_path: source.encode()})


# ---------------------------------------------------------------- organize_knowledge
_NOTES: dict[str, tuple[str, ...]] = {
    "projects": ("Website Relaunch", "Spring Fundraiser", "Mobile App Pilot", "Warehouse Move", "Volunteer Portal",
                 "Newsletter Redesign", "Solar Panel Rollout", "Customer Survey"),
    "processes": ("Onboarding Checklist", "Expense Approval Flow", "Incident Runbook", "Release Process",
                  "Vendor Onboarding", "Weekly Backup Routine", "Hiring Pipeline", "Purchase Requests"),
    "reference": ("Brand Guidelines", "Office Wifi Setup", "Glossary", "Style Guide", "Emergency Contacts",
                  "Printer Troubleshooting", "Tooling Overview", "Data Retention Policy"),
    "meetings": ("Kickoff Notes", "Budget Review Notes", "Quarterly Planning Notes", "Retro Notes March",
                 "Board Prep Notes", "Design Review Notes", "Partner Call Notes", "Team Offsite Notes"),
}
_TAGS = ("onboarding", "finance", "ops", "it", "marketing", "people", "planning", "security", "customers",
         "facilities")
_ALL_TITLES = tuple(t for ts in _NOTES.values() for t in ts)
assert sorted(_ALL_TITLES) == sorted(_ALL_TITLES, key=str.lower), "titles must sort the same with or without case"
_INTROS = {
    "projects": "Tracking page for the {t} work.",
    "processes": "How we handle {t}, step by step.",
    "reference": "Reference notes on {t}.",
    "meetings": "Notes from the session, kept for the record.",
}
_LINK_SENTENCES = ("See {l} for the background.", "This depends on {l}.", "Related: {l}.",
                   "Open questions are tracked in {l}.", "Compare with {l} before changing anything.")
_ALIASES = ("this page", "the details", "the checklist", "that note", "here")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


@dataclass
class _Note:
    title: str
    area: str
    tags: list[str]
    created: date
    targets: list[str]
    """Other notes it links to (each distinct, never itself)."""
    broken: list[str] = field(default_factory=list)
    """Link targets that match no note."""


class OrganizeKnowledge:
    """Index a folder of linked Markdown notes: per-note link counts, a tag index, broken links.

    Titles come from front matter, links are Obsidian-style ``[[Title]]`` / ``[[Title|text]]``; the
    counts ask for distinct notes, so repeated links and aliases are the traps, not the parsing.
    """

    name = "organize_knowledge"
    category = "planning_knowledge"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        d = ctx.difficulty
        n = 5 + d + rng.randrange(0, 3)
        chosen = sorted(rng.sample(_ALL_TITLES, n))
        missing_pool = [t for t in _ALL_TITLES if t not in chosen]
        area_of = {t: a for a, ts in _NOTES.items() for t in ts}
        notes: list[_Note] = []
        for title in chosen:
            targets = rng.sample([t for t in chosen if t != title], rng.randint(0, min(3, n - 1)))
            broken = rng.sample(missing_pool, 1) if d >= 3 and rng.random() < 0.4 else []
            notes.append(_Note(title, area_of[title], sorted(rng.sample(_TAGS, rng.randint(1, 3))),
                               date(2025, 6, 1) + timedelta(days=rng.randrange(0, 300)), targets, broken))
        if d >= 3 and not any(nt.broken for nt in notes):
            rng.choice(notes).broken = rng.sample(missing_pool, 1)

        files: dict[str, bytes] = {}
        for nt in notes:
            files[f"input/notes/{_slug(nt.title)}.md"] = self._render(rng, nt, d).encode()

        titles = set(chosen)
        backlinks = {t: sum(1 for nt in notes if t in nt.targets) for t in chosen}
        rows: list[Row] = [{"title": nt.title, "area": nt.area, "created": nt.created.isoformat(),
                            "links_out": len(set(nt.targets) & titles), "backlinks": backlinks[nt.title]}
                           for nt in notes]
        order = rng.choice(("title", "created", "backlinks"))
        if order == "title":
            rows.sort(key=lambda r: str(r["title"]))
            order_text = "sorted by `title` A to Z"
        elif order == "created":
            rows.sort(key=lambda r: (str(r["created"]), str(r["title"])))
            order_text = "sorted by `created` (oldest first), ties by `title` A to Z"
        else:
            rows.sort(key=lambda r: (-int(r["backlinks"] or 0), str(r["title"])))
            order_text = "sorted by `backlinks` (most first), ties by `title` A to Z"
        tag_index = {tag: sorted(nt.title for nt in notes if tag in nt.tags)
                     for tag in sorted({t for nt in notes for t in nt.tags})}
        broken_links = sorted({b for nt in notes for b in nt.broken})

        fmt = rng.choice(("csv", "json"))
        columns = ["title", "area", "created", "links_out", "backlinks"]
        table = Table(columns=columns, rows=rows, path=f"output/step{ctx.step}_notes_index.{fmt}", fmt=fmt,  # type: ignore[arg-type]
                      label="notes", key="title", numeric=["links_out", "backlinks"], category="area")
        index_path = f"output/step{ctx.step}_tag_index.json"
        index_doc: dict[str, object] = {"tags": tag_index}
        if d >= 3:
            index_doc["broken_links"] = broken_links

        backup = None
        linked = [nt for nt in notes if backlinks[nt.title]]
        if decoys.wanted(ctx) and linked:  # the vault is described, beside an older backup of it
            side = decoys.side_rng(ctx, self.name)
            cut = max(nt.created for nt in linked)  # the backup predates the newest linked note: links to it
            taken = cut - timedelta(days=side.randint(1, 9))  # are broken there, counts differ
            backup = taken.isoformat()
            kept = {f"input/notes/{_slug(nt.title)}.md" for nt in notes if nt.created <= taken}
            files.update({f"input/notes_backup_{backup}/{path.removeprefix('input/notes/')}": data
                          for path, data in list(files.items()) if path in kept})
        if ctx.v2:
            instruction = _knowledge_wording(ctx, n, d, table.path, describe_format(fmt), columns, order, index_path,
                                             backup is not None)
        intro = "" if ctx.v2 else pick(rng, (
            f"The folder `input/notes/` holds {n} Markdown notes, each with a front-matter block (`title`, `area`, "
            f"`tags`, `created`); notes link to each other by title as `[[Note Title]]`"
            + (" or `[[Note Title|shown text]]`" if d >= 4 else "") + ".",
            f"My knowledge base is in `input/notes/` ({n} Markdown files; the front matter gives each note's `title`, "
            f"`area`, `tags` and `created` date, and `[[Title]]`"
            + (" / `[[Title|text]]`" if d >= 4 else "") + " in the text is a link to another note by its title).",
        ))
        table_ask = (
            f" Build an index at `{table.path}` as {describe_format(fmt)} with exactly the columns "
            f"{join_list([f'`{c}`' for c in columns])}, one row per note, {order_text}: `links_out` is the number of "
            f"distinct other notes it links to (ignore links to notes that do not exist) and `backlinks` the number "
            f"of distinct other notes linking to it.")
        json_ask = "" if ctx.v2 else pick(rng, (
            f" Also write `{index_path}`: a JSON object whose `tags` maps every tag to the titles of the notes "
            f"carrying it, sorted A to Z",
            f" Then save a tag index to `{index_path}`: JSON with a key `tags` that maps each tag to the sorted "
            f"(A to Z) list of note titles with that tag",
        )) + (", plus a `broken_links` list with every distinct link target that matches no note title, sorted A to Z."
              if d >= 3 else ".")
        step = f"step{ctx.step}"
        checks = [ck.table_equal(f"{step}_notes_index", table),
                  ck.table_equal(f"{step}_link_counts",
                                 Table(["title", "links_out", "backlinks"], rows, table.path, fmt),  # type: ignore[arg-type]
                                 ordered=False, exact_columns=False),
                  ck.json_equal(f"{step}_tag_index", index_path, tag_index, key_path=["tags"])]
        if d >= 3:
            checks.append(ck.json_equal(f"{step}_broken_links", index_path, broken_links, key_path=["broken_links"]))
        return OpStep(
            op=self.name, instruction=instruction if ctx.v2 else intro + table_ask + json_ask,
            oracle=[write_call(table.path, serialize(table)),
                    write_call(index_path, json.dumps(index_doc, indent=2) + "\n")],
            checks=checks,
            outputs=[OutputSpec(table.path, TABLE_MUTATIONS),
                     # v2: titles and tags are the index's values (it holds no number a perturbation could change)
                     OutputSpec(index_path, ("missing", "value", "format"),
                                checked_values=tuple(sorted(tag_index) + broken_links) if ctx.v2 else ())],
            artifact=table, input_files=files,
        )

    @staticmethod
    def _render(rng: random.Random, nt: _Note, d: int) -> str:
        """One note file: front matter, heading, a few sentences carrying its links."""
        mentions = nt.targets + nt.broken
        if d >= 2 and nt.targets:
            mentions.append(rng.choice(nt.targets))  # a repeated link still counts once
        rng.shuffle(mentions)
        body = [_INTROS[nt.area].format(t=nt.title.lower())]
        for m in mentions:
            link = f"[[{m}|{rng.choice(_ALIASES)}]]" if d >= 4 and rng.random() < 0.4 else f"[[{m}]]"
            body.append(rng.choice(_LINK_SENTENCES).format(l=link))
        reviewed = nt.created + timedelta(days=rng.randrange(5, 60))
        body.append(f"Owner: {rng.choice(PEOPLE)}. Last reviewed: {reviewed.isoformat()}.")
        if d >= 4 and rng.random() < 0.5:
            tags = "tags:\n" + "".join(f"  - {t}\n" for t in nt.tags)
        else:
            tags = f"tags: [{', '.join(nt.tags)}]\n"
        return (f"---\ntitle: {nt.title}\narea: {nt.area}\n{tags}created: {nt.created.isoformat()}\n---\n\n"
                f"# {nt.title}\n\n" + "\n\n".join(body) + "\n")


def _schedule_wording(ctx: OpContext, src: str, n: int, path: str, fmt: str, cols: str, one_at_a_time: bool,
                      with_dates: bool, holidays: bool) -> str:
    """builtin-v2's schedule_plan instruction: the same rules as v1, each sentence a grammar."""
    v = {"src": src, "n": n, "path": path, "fmt": fmt, "cols": cols}
    parts = [ctx.say("[Plan|Schedule|Lay out|Work out the timing of] the project in `{src}`[ ({n} tasks with owners, "
                  "durations in working days and dependencies)| ({n} tasks, each with an owner, a duration in working "
                  "days and its dependencies)|, {n} tasks in all,] and [write|save|put] the [schedule|timeline|plan] "
                  "[to|in|at] `{path}` as {fmt}.", **v),
             ctx.say("[Use|Give it|It needs|Include] exactly the columns {cols}[| in that order], one row per task, "
                  "[sorted|ordered] by `start_day` [and then|with ties broken by|then by] `task_id`[| (both ascending)"
                  "| (smallest first)].", **v),
             ctx.say("[Days are numbered|Day numbers start|Number the days|Count days] from 0 (day 0 is "
                  "`project_start`)[ and| and they] [count working days only|count only working days|skip non-working "
                  "days|include working days only][| (weekends never count)| (weekends do not count)| (Saturdays and "
                  "Sundays are skipped)]" + ("; " if (ctx.phrase_rng or ctx.rng).random() < 0.5 else ". ") + "a task [can start|may begin|is ready to start] [once|as soon as] every task in its `depends_on` "
                  "[has finished|is done|is complete]: its `start_day` is the [largest|latest|highest] `finish_day` "
                  "among its dependencies (0 if it has none)[, and|, while] `finish_day` [=|is] `start_day` + "
                  "`duration_days`.", **v).replace(". a task", ". A task")]
    if one_at_a_time:
        parts.append(ctx.say("[Each owner works on one task at a time|An owner handles one task at a time|No owner works on two "
                 "tasks at once], so [schedule the tasks one by one|place the tasks one at a time|schedule tasks one "
                 "after another]: [always take|each time pick|repeatedly pick], among the tasks whose dependencies are "
                 "all [scheduled already|already scheduled|placed], the one with the smallest `task_id`; its "
                 "`start_day` is the later of its dependencies' largest `finish_day` and the `finish_day` of the task "
                 "[scheduled last|most recently scheduled|placed last] for the same owner (0 if none).", **v))
    if with_dates:
        parts.append(ctx.say("[|For the dates, |On the calendar, |As for dates, ]`start_date` is the [calendar date|date] "
                 "[of|for] working day `start_day` [and|while] `end_date` [is the date of|falls on] the task's last "
                 "working day (day `finish_day` - 1)[;|, and|, where] working days [are|run from] Monday to Friday"
            + ("[, minus the|, except the|, leaving out the] `holidays` [listed in the file|the file lists|in the "
               "file]." if holidays else "."), **v))
    return " ".join(parts)


_ORDER_TEXT = {
    "title": "[sorted|ordered] by `title` [A to Z|alphabetically (A to Z)|from A to Z]",
    "created": "[sorted|ordered] by `created` [(oldest first)|from oldest to newest|with the oldest first], ties by "
               "`title` [A to Z|alphabetically]",
    "backlinks": "[sorted|ordered] by `backlinks` [(most first)|from most to fewest|with the most linked first], ties "
                 "by `title` [A to Z|alphabetically]",
}


def _knowledge_wording(ctx: OpContext, n: int, d: int, path: str, fmt: str, columns: list[str], order: str,
                       index_path: str, described: bool = False) -> str:
    """builtin-v2's organize_knowledge instruction: the notes, the index table, the tag index. ``described``:
    the live notes folder is told apart from a dated backup beside it, not named."""
    v = {"n": n, "path": path, "fmt": fmt, "cols": join_list([f"`{c}`" for c in columns]), "index": index_path}
    alias = (" or `[[Note Title|shown text]]`" if d >= 4 else "")
    where = ("[The folder|The directory|My notes folder] `input/notes/` [holds|contains|has]" if not described else
             "[My current notes|The live notes|My working notes] [are in|sit in|live in] a folder [in|under] "
             "`input/` ([not the dated backup copy beside it|the dated backup next to it is out of date|ignore the "
             "older backup folder]): [it holds|it has|there are]")
    intro = ctx.say(where + " {n} Markdown notes"
                 ", each with [a front-matter block|front matter|a YAML header] (`title`, `area`, `tags`, `created`)"
                 "[;|, and] [notes link to each other|they link to one another|links between notes are written] by "
                 "title as `[[Note Title]]`" + alias + "[| in the text| anywhere in the body].", **v)
    table = ctx.say("[Build|Create|Write|Make] an index [at|in] `{path}` as {fmt}[, with|, using|; give it] exactly "
                 "the columns {cols}, one row per note, " + _ORDER_TEXT[order] + ".", **v)
    counts = ctx.say("`links_out` [is|holds|gives] the [number of distinct|count of different] other notes it links "
                  "to ([ignore|skip|do not count] links to notes that do not exist), and `backlinks` the [number of "
                  "distinct|count of different] other notes [linking to it|that link to it][| (a repeated link counts "
                  "once)].", **v)
    tags = ctx.say("[Also|Then|Next,|After that,] [write|save] [a tag index to|] `{index}`: a JSON object whose `tags` "
                "[maps|links] [every|each] tag to the [titles|list of titles] of the notes [carrying|with|tagged with] it, "
                "[sorted A to Z|in A to Z order|alphabetically]", **v)
    if d >= 3:
        tags += ctx.say("[, plus|, and also|, along with] a `broken_links` list with every distinct link target that "
                     "[matches no note title|is not the title of any note|points to no existing note], [sorted A to Z|"
                     "in A to Z order|alphabetically].", **v)
    else:
        tags += "."
    return " ".join((intro, table, counts, tags))


# ---------------------------------------------------------------- schedule_plan under constraints (builtin-v2, d >= 4)
# The skill each task needs, aligned with _PROJECTS.
_SKILLS: dict[str, tuple[str, ...]] = {
    "Spring volunteer fair": ("venues", "budgeting", "outreach", "purchasing", "design", "logistics", "web",
                              "purchasing", "outreach", "venues", "outreach", "logistics"),
    "Website relaunch": ("research", "writing", "design", "design", "web", "web", "web", "testing", "testing",
                         "outreach", "writing", "research"),
    "Office move": ("facilities", "budgeting", "budgeting", "facilities", "purchasing", "logistics", "IT", "IT",
                    "admin", "logistics", "facilities", "outreach"),
    "Customer survey": ("research", "writing", "admin", "research", "writing", "outreach", "research", "analysis",
                        "analysis", "writing", "analysis", "outreach"),
}
assert all(len(_SKILLS[p]) == len(_PROJECTS[p]) for p in _PROJECTS)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_LEAVE = ("annual leave", "training course", "medical appointment", "conference", "moving house", "family event",
          "jury duty", "volunteering day")
_CLOSED = ("public holiday", "office closed for maintenance", "company away day", "regional holiday")
_ROLES = ("coordinator", "assistant", "specialist", "analyst", "officer", "lead")
_DAY = timedelta(days=1)


def _date_text(style: int, d: date) -> str:
    """One of the ways people write a date in a shared calendar (all unambiguous)."""
    month = _MONTHS[d.month - 1]
    return (d.isoformat(), f"{_WEEKDAYS[d.weekday()][:3]} {d.day} {month[:3]} {d.year}", f"{d.day} {month} {d.year}",
            f"{month} {d.day}, {d.year}", f"{d.year}/{d.month:02d}/{d.day:02d}",
            f"{d.day:02d}-{month[:3]}-{d.year}")[style % 6]


def _long_date(d: date) -> str:
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def _place(tasks: list[_Task], start: date, closed: set[date],
           off: dict[str, set[date]]) -> dict[str, tuple[date, date]]:
    """Task id -> (first, last) working day: tasks taken one at a time (smallest ready id first), each on
    its owner's working days only, after its dependencies and after the owner's previously placed task."""
    placed: dict[str, tuple[date, date]] = {}
    owner_end: dict[str, date] = {}
    ordered = sorted(tasks, key=lambda t: t.id)
    while len(placed) < len(ordered):
        t = next(t for t in ordered if t.id not in placed and all(x in placed for x in t.depends_on))
        cur = max([placed[x][1] + _DAY for x in t.depends_on] + [start]
                  + ([owner_end[t.owner] + _DAY] if t.owner in owner_end else []))
        days: list[date] = []
        away = off.get(t.owner, set())
        while len(days) < t.duration_days:
            if cur.weekday() < 5 and cur not in closed and cur not in away:
                days.append(cur)
            cur += _DAY
        placed[t.id] = (days[0], days[-1])
        owner_end[t.owner] = days[-1]
    return placed


def _swapped(tasks: list[_Task], task_id: str, to: str) -> list[_Task]:
    return [replace(t, owner=to) if t.id == task_id else t for t in tasks]


@dataclass
class _Constrained:
    """A drawn planning problem and its answer."""

    project: str
    start: date
    tasks: list[_Task]
    skill: dict[str, str]
    roster: dict[str, list[str]]
    closed: list[tuple[date, str]]
    leave: list[tuple[str, date, date, str]]
    outsider: str
    sponsor: str
    milestone: date
    moved_from: date
    options: list[tuple[str, str]]
    """(task id, new owner) in the note's order."""
    tie: str
    plan: dict[str, tuple[date, date]]
    best: tuple[str, str]
    best_finish: date

    @property
    def finish(self) -> date:
        return max(e for _, e in self.plan.values())

    @property
    def late(self) -> list[str]:
        return sorted(t for t, (_, e) in self.plan.items() if e > self.milestone)


def _draw_constrained(rng: random.Random, d: int) -> _Constrained | None:
    """One attempt at a problem where every constraint matters: days off move the plan, some tasks miss
    the milestone and some do not, one allowed re-assignment finishes earlier, and an option the roster
    forbids would finish earlier still. None when the draw misses one of these."""
    project = rng.choice(sorted(_PROJECTS))
    n = min(4 + d + rng.randrange(0, 3), len(_PROJECTS[project]))
    people = rng.sample(PEOPLE, 7)
    owners, extras, outsider, sponsor = people[:3], people[3:5], people[5], people[6]
    ids = [f"T{i:02d}" for i in rng.sample(range(1, n + 1), n)]
    deps = _random_deps(rng, n)
    tasks = sorted((_Task(ids[i], _PROJECTS[project][i], rng.choice(owners), rng.randint(1, 5),
                          sorted(ids[j] for j in deps[i])) for i in range(n)), key=lambda t: t.id)
    skill = {ids[i]: _SKILLS[project][i] for i in range(n)}
    pool = sorted(set(skill.values()))
    roster = {o: sorted({skill[t.id] for t in tasks if t.owner == o} | set(rng.sample(pool, 1))) for o in owners}
    roster.update({e: sorted(rng.sample(pool, min(len(pool), rng.randint(2, 3)))) for e in extras})

    start = date(2026, 1, 5) + timedelta(weeks=rng.randrange(0, 40))  # a Monday
    rough = max(e for _, e in _place(tasks, start, set(), {}).values())
    span = [start + timedelta(days=i) for i in range(1, (rough - start).days + 12)]
    weekdays = [x for x in span if x.weekday() < 5]
    weekend = [x for x in span if x.weekday() >= 5]
    closed = [(rng.choice(weekdays), rng.choice(_CLOSED)), (rng.choice(weekend), rng.choice(_CLOSED))]
    leave: list[tuple[str, date, date, str]] = []
    for person in owners + extras + [outsider]:
        for _ in range(rng.randint(1, 2)):
            first = rng.choice(weekdays)
            last = first + timedelta(days=rng.choice((0, 0, 1, 2, 3)))
            if not any(who == person and a <= last + _DAY and first <= b + _DAY for who, a, b, _ in leave):
                leave.append((person, first, last, rng.choice(_LEAVE)))
    shut = {c for c, _ in closed}
    off: dict[str, set[date]] = {}
    for person, first, last, _ in leave:
        off.setdefault(person, set()).update(first + timedelta(days=i) for i in range((last - first).days + 1))

    plan = _place(tasks, start, shut, off)
    if plan == _place(tasks, start, shut, {}):
        return None  # nobody's days off change anything
    ends = sorted({e for _, e in plan.values()})
    if len(ends) < 4:
        return None
    milestone = rng.choice(ends[len(ends) // 3:-1])
    finish = ends[-1]

    def finish_with(option: tuple[str, str]) -> date:
        return max(e for _, e in _place(_swapped(tasks, *option), start, shut, off).values())

    owner_of = {t.id: t.owner for t in tasks}
    pairs = [(t.id, p) for t in tasks for p in owners + extras if p != t.owner]
    allowed = [o for o in pairs if skill[o[0]] in roster[o[1]]]
    forbidden = [o for o in pairs if o not in allowed]
    scored = {o: finish_with(o) for o in pairs}
    better = [o for o in allowed if scored[o] < finish]
    if not better:
        return None
    listed = [rng.choice(better)]
    listed += rng.sample([o for o in allowed if o not in listed], min(rng.randint(1, 2), len(allowed) - 1))
    best_finish = min(scored[o] for o in listed)
    traps = [o for o in forbidden if scored[o] < best_finish]
    if not traps:
        return None
    listed.append(rng.choice(traps))
    others = [o for o in forbidden if o not in listed]
    if others and rng.random() < 0.5:
        listed.append(rng.choice(others))
    rng.shuffle(listed)
    tie = rng.choice(("listed", "task_id"))
    rank = (lambda o: listed.index(o)) if tie == "listed" else (lambda o: o)
    best = min((o for o in listed if o in allowed), key=lambda o: (scored[o], rank(o)))
    assert owner_of[best[0]] != best[1]
    return _Constrained(project, start, tasks, skill, roster, closed, leave, outsider, sponsor, milestone,
                        milestone - timedelta(days=7), listed, tie, plan, best, scored[best])


def _constrained_files(rng: random.Random, c: _Constrained) -> dict[str, str]:
    """The four inputs: the task list (JSON or YAML), the team calendar (CSV or Markdown, dates written
    several ways), the roster (CSV or Markdown) and the sponsor's note (milestone, options)."""
    files: dict[str, str] = {}
    if rng.random() < 0.5:
        doc = {"project": c.project, "project_start": c.start.isoformat(),
               "tasks": [{**t.as_dict(), "skill": c.skill[t.id]} for t in c.tasks]}
        files["input/tasks.json"] = json.dumps(doc, indent=2) + "\n"
    else:
        out = [f"project: {c.project}", f"project_start: {c.start.isoformat()}", "tasks:"]
        for t in c.tasks:
            out += [f"  - id: {t.id}", f"    name: {t.name}", f"    owner: {t.owner}", f"    skill: {c.skill[t.id]}",
                    f"    duration_days: {t.duration_days}", f"    depends_on: [{', '.join(t.depends_on)}]"]
        files["input/tasks.yaml"] = "\n".join(out) + "\n"

    everyone = rng.choice(("Everyone", "All staff", "ALL"))
    entries = [(day, everyone, day, day, note) for day, note in c.closed]
    entries += [(first, who, first, last, note) for who, first, last, note in c.leave]
    entries.sort(key=lambda e: (e[0], e[1]))

    def when(first: date, last: date) -> str:
        style = rng.randrange(6)
        if first == last:
            return _date_text(style, first)
        return f"{_date_text(style, first)} {rng.choice(('to', 'until', 'through'))} {_date_text(style, last)}"

    if rng.random() < 0.5:
        rows = ["person,dates,note"] + [f'{who},"{when(a, b)}",{note}' for _, who, a, b, note in entries]
        files["input/team_calendar.csv"] = "\n".join(rows) + "\n"
    else:
        lines = [f"# Team calendar: {c.project}", "", f"Office closures apply to everyone (listed as {everyone}).", "",
                 "| Who | Dates | Note |", "|---|---|---|"]
        lines += [f"| {who} | {when(a, b)} | {note} |" for _, who, a, b, note in entries]
        files["input/team_calendar.md"] = "\n".join(lines) + "\n"

    cap = rng.random() < 0.5  # the roster may capitalize skills the task list writes in lower case
    people = sorted(c.roster)
    roles = {p: rng.choice(_ROLES) for p in people}
    skills = {p: [s if s == "IT" or not cap else s.capitalize() for s in c.roster[p]] for p in people}
    if rng.random() < 0.5:
        files["input/roster.csv"] = "name,role,skills\n" + "".join(
            f'{p},{roles[p]},"{"; ".join(skills[p])}"\n' for p in people)
    else:
        files["input/roster.md"] = f"# Roster: {c.project}\n\n" + "".join(
            f"- **{p}** ({roles[p]}): {', '.join(skills[p])}\n" for p in people)

    names = {t.id: t.name for t in c.tasks}
    opts = "".join(f"- {tid} ({names[tid]}) {rng.choice(('to', '->', 'over to'))} {to}\n" for tid, to in c.options)
    files["input/request.md"] = (
        f"From: {c.sponsor}\nSubject: {c.project}: milestone and one re-assignment\n\n"
        f"Hi all,\n\nThe milestone review {rng.choice(('has moved', 'was moved', 'is now moved'))} from "
        f"{_long_date(c.moved_from)} to {_long_date(c.milestone)}; tasks that end after that day miss it.\n\n"
        f"To speed things up I can approve exactly one of these re-assignments, no more:\n\n{opts}\n"
        f"{rng.choice(('Let me know which one you recommend.', 'Tell me which one gets us done soonest.'))}\n\n"
        f"{c.sponsor.split()[0]}\n")
    return files


def _constrained_plan(ctx: OpContext) -> OpStep:
    """builtin-v2 schedule_plan at difficulty 4-5: the schedule under days off and office closures
    (a separate calendar, dates written several ways), then a decision: which tasks miss the milestone,
    when the plan ends, and which one allowed re-assignment (skills in a roster) ends it earliest."""
    rng = ctx.rng
    for _ in range(200):
        c = _draw_constrained(rng, ctx.difficulty)
        if c is not None:
            break
    else:  # pragma: no cover - the draw succeeds within a few tries (tests build hundreds)
        raise RuntimeError("schedule_plan: no constrained plan drawn")
    files = _constrained_files(rng, c)
    src = next(p for p in files if p.startswith("input/tasks."))
    columns = ["task_id", "name", "owner", "duration_days", "start_date", "end_date"]
    rows: list[Row] = [{"task_id": t.id, "name": t.name, "owner": t.owner, "duration_days": t.duration_days,
                        "start_date": c.plan[t.id][0].isoformat(), "end_date": c.plan[t.id][1].isoformat()}
                       for t in sorted(c.tasks, key=lambda t: (c.plan[t.id][0], t.id))]
    fmt = rng.choice(("csv", "json"))
    out = Table(columns=columns, rows=rows, path=f"output/step{ctx.step}_schedule.{fmt}", fmt=fmt,  # type: ignore[arg-type]
                label="scheduled tasks", key="task_id", numeric=["duration_days"], category="owner")
    decision_path = f"output/step{ctx.step}_{rng.choice(('decision', 'milestone_review', 'plan_decision'))}.json"
    owner_of = {t.id: t.owner for t in c.tasks}
    swap = {"task": c.best[0], "from": owner_of[c.best[0]], "to": c.best[1]}
    decision = {"late_tasks": c.late, "finish_date": c.finish.isoformat(), "best_swap": swap,
                "finish_date_after_swap": c.best_finish.isoformat()}
    step = f"step{ctx.step}"
    checks = [ck.table_equal(f"{step}_schedule", out),
              ck.table_equal(f"{step}_schedule_dates", Table(["task_id", "start_date", "end_date"], rows, out.path, fmt),  # type: ignore[arg-type]
                             ordered=False, exact_columns=False),
              ck.json_equal(f"{step}_late_tasks", decision_path, decision["late_tasks"], key_path=["late_tasks"]),
              ck.json_equal(f"{step}_finish_date", decision_path, decision["finish_date"], key_path=["finish_date"]),
              ck.json_equal(f"{step}_best_swap", decision_path, swap, key_path=["best_swap"]),
              ck.json_equal(f"{step}_finish_after_swap", decision_path, decision["finish_date_after_swap"],
                            key_path=["finish_date_after_swap"])]
    instruction = _constrained_wording(ctx, c, src, out.path, describe_format(fmt), columns, decision_path)
    checked = tuple(dict.fromkeys([swap["task"], swap["from"], swap["to"], *c.late]))
    return OpStep(op=SchedulePlan.name, instruction=instruction,
                  oracle=[write_call(out.path, serialize(out)), write_call(decision_path, json.dumps(decision, indent=2) + "\n")],
                  checks=checks,
                  outputs=[OutputSpec(out.path, TABLE_MUTATIONS),
                           OutputSpec(decision_path, ("missing", "value", "format"), checked_values=checked)],
                  artifact=out, input_files={p: text.encode() for p, text in files.items()})


def _constrained_wording(ctx: OpContext, c: _Constrained, src: str, path: str, fmt: str, columns: list[str],
                         decision: str) -> str:
    """The goal, the rules that make a schedule correct, and the output contract; not how to compute it."""
    v = {"src": src, "path": path, "fmt": fmt, "cols": join_list([f"`{col}`" for col in columns]),
         "decision": decision, "project": c.project, "sponsor": c.sponsor.split()[0]}
    parts = [
        ctx.say("[I need a realistic plan for|Please plan|Help me plan|Work out a realistic plan for] the {project} "
                "[project|work][ before the milestone review|]: the tasks [are in|sit in|are listed in] `{src}`[, and|"
                "; ] the team calendar, the [skills roster|roster of skills|team roster] and {sponsor}'s "
                "[note|request|message] [about|with] the milestone and the re-assignment options [are in|sit in|"
                "are also in] `input/`.", **v),
        ctx.say("[Work happens|People work|Working days are] Monday to Friday, [except|but not on] days the whole "
                "office is closed[, and nobody works|; nobody works|, and no one works] on [their own|their] days off "
                "([both are|both are listed] in the [team |]calendar)[. |; ]a task [takes|needs|requires] `duration_days` "
                "[of its owner's working days|working days of its owner|of its owner's own working days][, pausing [when|while] the owner is off and [resuming|going on] the next day they "
                "work|: work [stops|pauses] [when|while] the owner is off and [resumes|goes on] the next day they work|, "
                "not counting days the owner is off].", **v),
        ctx.say("[Place|Schedule] the tasks one at a time: [each time|at every step|repeatedly] [take|pick] the "
                "smallest `task_id` whose dependencies are all [placed|scheduled][; it|, which] starts on its owner's "
                "[first|earliest] working day after every dependency [has ended|is over|is finished] and after the "
                "[owner's previously placed task|last task already placed for the same owner] [has ended|is over] "
                "([never|not|but never] before `project_start`).", **v),
        ctx.say("[[Write|Save] the current plan (no re-assignment) [to|in]|Put the current plan (no re-assignment) "
                "in] `{path}` as {fmt}[ with| using] exactly "
                "the columns {cols}[,|:] one row per task, [sorted|ordered] by `start_date` [then|and then|with ties "
                "broken by] `task_id`[, dates as YYYY-MM-DD| (dates in YYYY-MM-DD form)].", **v),
        ctx.say("[Then|Also|Finally,] [[write|save] [the decision|your recommendation] [to|in]|record [the decision|"
                "your recommendation] in] `{decision}` as a JSON object with `late_tasks` (the `task_id`s, sorted, of "
                "the tasks whose end date in the current plan [is after|falls after|comes after] the milestone "
                "[day|date][|; ending on the day itself is on time|; a task ending on that very day is on time]), "
                "`finish_date` (the [day|date] the current plan [ends|is finished]), `best_swap` "
                "(an object with `task`, `from` and `to`: the [one|single] option from the note that [makes the project "
                "finish earliest|brings the finish date furthest forward], [among those|counting only those] the "
                "roster allows, [i.e.|that is,] the new owner has the skill the task needs) and "
                "`finish_date_after_swap` (the finish [date|day] [once the whole plan is redone|after re-planning "
                "everything] with that swap).", **v),
        ctx.say("[[If|When] [several|two or more] allowed [options|re-assignments|swaps] [finish|end|would finish]|"
                "Should [several|two or more] allowed [options|swaps] finish] on the same [day|date], [take|choose|prefer|go with|recommend] "
                + ("the one [listed first in the note|that comes first in the note|the note lists first|{sponsor} "
                   "listed first]." if c.tie == "listed" else
                   "the [one with the smallest|smallest] `task_id`[, then|, and after that| and then] the new owner's "
                   "name [A to Z|alphabetically|in alphabetical order]."), **v),
    ]
    return " ".join(parts)
