"""Communication and coordination operations: reports, messages, notes built from data."""

from __future__ import annotations

import re

from clawgym_env.synth import checks as ck
from clawgym_env.synth.artifacts import Table, Text, fmt_number
from clawgym_env.synth.ops.base import OpContext, OpStep, OutputSpec, write_call
from clawgym_env.synth.phrasing import pick


class StatusReport:
    """A short Markdown status report that states counts and names the leading records."""

    name = "status_report"
    category = "communication"
    consumes = ("table",)
    starts = False
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        src = ctx.upstream
        if not isinstance(src, Table) or not src.rows:
            raise TypeError("status_report needs a non-empty table")
        key = src.key or src.columns[0]
        metric = src.numeric[0] if src.numeric else None
        top = src.rows[: min(3, len(src.rows))]
        title = pick(rng, ("Status update", "Weekly summary", "Review notes", "Situation report"))
        path = f"output/step{ctx.step}_report.md"
        total = fmt_number(sum(float(r[metric]) for r in src.rows)) if metric else None  # type: ignore[arg-type]
        lines = [f"# {title}: {src.label}", "", f"- Records reviewed: {len(src.rows)}"]
        if metric:
            lines.append(f"- Total `{metric}`: {total}")
        lines += ["", "## Leading items", ""]
        lines += [f"{i + 1}. {r[key]}" + (f" ({metric}: {fmt_number(r[metric])})" if metric else "")  # type: ignore[arg-type]
                  for i, r in enumerate(top)]
        content = "\n".join(lines) + "\n"
        facts = [f"Records reviewed: {len(src.rows)}"] + ([f"{total}"] if metric else [])
        instruction = pick(rng, (
            f"Write a short Markdown report to `{path}` for {ctx.persona.name.split()[0]}'s colleagues: a level-1 "
            f"heading starting with `{title}`, a bullet `Records reviewed: <n>` with the number of rows in "
            f"`{src.path}`" + (f", a bullet `Total {metric}: <sum of {metric}>`" if metric else "") +
            f", and a `## Leading items` section listing the first {len(top)} `{key}` values of `{src.path}` in order "
            f"as a numbered list.",
            f"Draft `{path}` (Markdown): title line `# {title}: …`, then `Records reviewed: <count of rows in "
            f"{src.path}>`" + (f", then `Total {metric}: <sum>`" if metric else "") + f", then a `## Leading items` "
            f"numbered list of the top {len(top)} `{key}` values exactly as they appear in `{src.path}`.",
        ))
        checks = [ck.regex(f"step{ctx.step}_title", path, rf"^# {title}\b"),
                  ck.regex(f"step{ctx.step}_count", path, rf"Records reviewed: {len(src.rows)}(?![\d.])"),
                  ck.ordered(f"step{ctx.step}_leading_order", path, ["## Leading items"] + [str(r[key]) for r in top])]
        if metric:
            checks.append(ck.regex(f"step{ctx.step}_total", path,
                                   rf"Total `?{re.escape(metric)}`?: {re.escape(str(total))}(?![\d]|\.\d)"))
        return OpStep(
            op=self.name, instruction=instruction, oracle=[write_call(path, content)], checks=checks,
            outputs=[OutputSpec(path, ("missing", "value", "order"),
                                checked_values=tuple([f"Records reviewed: {len(src.rows)}"] + ([f"Total `{metric}`: {total}"] if metric else [])
                                                     + [str(r[key]) for r in top]))],
            artifact=Text(path=path, content=content, label="status report", facts={"facts": facts}),
        )


# ---------------------------------------------------------------- shared helpers for messages
_WORD_RE = re.compile(r"\b\w+\b")
_MAIL_DOMAINS = ("example.org", "example.com", "example.net")


def _word_span(text: str, rng: random.Random, *, slack: int = 12) -> tuple[int, int]:
    """A word range that admits ``text`` whether words are counted like the checker (``\\b\\w+\\b``,
    so '2026-04-10' is 3 words) or like ``wc -w`` — agents count either way."""
    a, b = len(_WORD_RE.findall(text)), len(text.split())
    lo = max(10, (min(a, b) * 6 // 10) // 10 * 10)
    hi = (max(a, b) + slack + rng.randrange(0, 10) + 9) // 10 * 10
    return lo, hi


def _other_people(rng: random.Random, k: int, exclude: tuple[str, ...] = ()) -> list[str]:
    """``k`` distinct people (first names are distinct across PEOPLE, so greetings are unambiguous)."""
    return rng.sample([p for p in PEOPLE if p not in exclude], k)


def _address(name: str, rng: random.Random) -> str:
    return name.lower().replace(" ", ".") + "@" + rng.choice(_MAIL_DOMAINS)


def _some_date(rng: random.Random, lo: int = 20, hi: int = 320) -> date:
    return date(2026, 1, 1) + timedelta(days=rng.randrange(lo, hi))


def _long_date(d: date) -> str:
    """How people write dates in prose ('Friday 10 April 2026')."""
    return f"{d:%A} {d.day} {d:%B} {d.year}"


# ---------------------------------------------------------------- draft_message
@dataclass
class _EmailPlan:
    """What an email states, decided from the upstream artifact."""

    subject: str
    shown_subject: str
    """The subject as the instruction shows it."""
    body: str
    facts: list[str]
    described: list[list[str]]
    asks: str


class DraftMessage:
    """An email to a named colleague that restates facts from the previous step's output.

    From a table it states the row count, a column total, the top record and a reply-by date as
    labelled lines (one check each); from a text with described facts it restates those facts;
    from any other text it forwards the document under a short note.
    """

    name = "draft_message"
    category = "communication"
    consumes = ("table", "text")
    starts = False
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        src = ctx.upstream
        if not isinstance(src, (Table, Text)):
            raise TypeError("draft_message needs a table or a text from the previous step")
        me = ctx.persona.name.split()[0]
        recipient = _other_people(rng, 1)[0]
        r_first = recipient.split()[0]
        email = _address(recipient, rng)
        deadline = _some_date(rng)
        iso = deadline.isoformat()
        path = f"output/step{ctx.step}_email.txt"
        greeting = pick(rng, (f"Hi {r_first},", f"Hello {r_first},", f"Dear {r_first},"))
        signoff = pick(rng, ("Best,", "Thanks,", "Kind regards,", "Cheers,"))

        if isinstance(src, Table):
            if not src.rows:
                raise TypeError("draft_message needs a non-empty table")
            plan = self._from_table(rng, src, iso)
        elif src.facts.get("described"):
            plan = self._from_described(rng, src, iso)
        else:
            plan = self._forward(rng, src, iso)
        subject, body, facts, described, asks, shown = (plan.subject, plan.body, plan.facts, plan.described,
                                                        plan.asks, plan.shown_subject)

        content = (f"To: {recipient} <{email}>\nSubject: {subject}\n\n{greeting}\n\n{body}\n\n"
                   f"{signoff}\n{me}\n")
        lo, hi = _word_span(content, rng)
        header = pick(rng, (
            f"Draft an email to {recipient} ({email}) and save it as plain text to `{path}`. It must start with the "
            f"header lines `To: {recipient} <{email}>` and `Subject: {shown}`, then a blank line and the body.",
            f"Write an email for {recipient} <{email}> into `{path}` (plain text): first line `To: {recipient} "
            f"<{email}>`, second line `Subject: {shown}`, a blank line, then the message.",
        ))
        tail = pick(rng, (
            f"Ask them to reply by {_long_date(deadline)}, written as `Reply by: <YYYY-MM-DD>` on its own line. "
            f"Sign off with `{me}` on the last line and keep the whole file, headers included, between {lo} and "
            f"{hi} words.",
            f"Include a line `Reply by: <date>` with {_long_date(deadline)} as YYYY-MM-DD, end with your name "
            f"`{me}` as the very last line, and keep the file between {lo} and {hi} words in total.",
        ))
        instruction = f"{header} {asks} {tail}"
        step = f"step{ctx.step}"
        checks = [ck.regex(f"{step}_email_to", path, rf"^To:.*{re.escape(email)}", ci=True),
                  ck.regex(f"{step}_email_subject", path, rf"^Subject: *{re.escape(subject)} *$", ci=True)]
        checks += [ck.contains(f"{step}_email_fact_{i}", path, [f]) for i, f in enumerate(facts)]
        checks += [ck.contains(f"{step}_email_reply_by", path, [f"Reply by: {iso}"]),
                   ck.regex(f"{step}_email_signoff", path, rf"\b{re.escape(me)}\s*\Z"),
                   ck.word_range(f"{step}_email_length", path, lo, hi)]
        return OpStep(
            op=self.name, instruction=instruction, oracle=[write_call(path, content)], checks=checks,
            outputs=[OutputSpec(path, ("missing", "value"), checked_values=tuple(facts) + (f"Reply by: {iso}",))],
            artifact=Text(path=path, content=content, label=f"email to {recipient}",
                          facts={"facts": facts + [iso],
                                 "described": described + [["the reply-by date", iso]]}),
        )

    @staticmethod
    def _from_table(rng: random.Random, src: Table, iso: str) -> _EmailPlan:
        key = src.key or src.columns[0]
        n = len(src.rows)
        count_label = pick(rng, ("Records", "Items in scope", "Entries reviewed", "Rows checked"))
        facts = [f"{count_label}: {n}"]
        described = [[f"the number of {src.label}", str(n)]]
        asks = [f"`{count_label}: <number of {src.label} in {src.path}>`"]
        numeric = [c for c in src.numeric if all(_is_number(r.get(c)) for r in src.rows)]
        if numeric:
            col = rng.choice(numeric)
            values = [r[col] for r in src.rows]
            whole = all(isinstance(v, int) for v in values)
            total = str(sum(values)) if whole else f"{sum(float(v) for v in values):.2f}"  # type: ignore[arg-type]
            top = min(src.rows, key=lambda r: (-float(r[col]), str(r[key])))[key]  # type: ignore[arg-type]
            facts += [f"Total {col}: {total}", f"Top {key} by {col}: {top}"]
            described += [[f"the total {col}", total], [f"the {key} with the highest {col}", str(top)]]
            how = "a whole number" if whole else "2 decimals, no thousands separator or currency sign"
            asks += [f"`Total {col}: <sum of {col} over all rows, {how}>`",
                     f"`Top {key} by {col}: <the {key} of the row with the highest {col}; on a tie the "
                     f"alphabetically first {key}>`"]
        else:
            first = src.rows[0][key]
            facts.append(f"First {key}: {first}")
            described.append([f"the first {key}", str(first)])
            asks.append(f"`First {key}: <the {key} of the first row>`")
        subject = pick(rng, (f"{src.label.capitalize()}: key figures", f"Numbers on the {src.label}",
                             f"Quick update on the {src.label}"))
        intro = pick(rng, (f"Here are the key figures from the {src.label} I went through today.",
                           f"I went through the {src.label} and pulled out the numbers you asked about."))
        closing = pick(rng, ("Let me know if anything looks off.", "Happy to walk you through the details.",
                             "Tell me if you need the full file."))
        body = "\n".join([intro, "", *facts, f"Reply by: {iso}", "", closing])
        lead = pick(rng, ("In the body, after a short greeting and intro, put these lines using exactly these labels: ",
                          "The body must contain, besides a greeting, these labelled lines: "))
        return _EmailPlan(subject, subject, body, facts, described, lead + "; ".join(asks) + f" (all from `{src.path}`).")

    @staticmethod
    def _from_described(rng: random.Random, src: Text, iso: str) -> _EmailPlan:
        pairs = [(str(d), str(v)) for d, v in src.facts["described"]]
        subject = pick(rng, (f"Re: {src.label}", f"Heads-up: {src.label}", f"FYI: {src.label}"))
        intro = pick(rng, (f"Quick heads-up about the {src.label}. The key details:",
                           f"Sharing the essentials from the {src.label}:"))
        lines = [f"- {d[0].upper() + d[1:]}: {v}" for d, v in pairs]
        body = "\n".join([intro, "", *lines, "", f"Reply by: {iso}"])
        wanted = join_list([d for d, _ in pairs])
        asks = pick(rng, (
            f"In the body, give a short heads-up about `{src.path}` that states {wanted}, each copied exactly as "
            f"written in that file.",
            f"Summarise `{src.path}` for them: mention {wanted}, spelled exactly as they appear there.",
        ))
        return _EmailPlan(subject, subject, body, [v for _, v in pairs], [list(p) for p in pairs], asks)

    @staticmethod
    def _forward(rng: random.Random, src: Text, iso: str) -> _EmailPlan:
        lines = [ln.strip() for ln in src.content.splitlines() if ln.strip()]
        if not lines:
            raise TypeError("draft_message cannot forward an empty document")
        title = lines[0].lstrip("#").strip()
        facts = [lines[0]] + [ln for ln in lines[1:] if any(ch.isdigit() for ch in ln)][:3]
        subject = f"Fwd: {title}"
        note = pick(rng, ("Forwarding the document below for your review.",
                          "Sharing this with you before we meet; the full text is below."))
        body = "\n".join([note, f"Reply by: {iso}", "", "---------- Forwarded document ----------",
                          src.content.strip()])
        asks = pick(rng, (
            f"Use `Fwd: ` plus the first line of `{src.path}` (without any leading `#`) as the subject. After a "
            f"one-line note, add a line `---------- Forwarded document ----------` and paste the full text of "
            f"`{src.path}` unchanged below it.",
            f"The subject is `Fwd: <first line of {src.path}, leading # removed>`. Below a short note, put the line "
            f"`---------- Forwarded document ----------` and then the complete, unedited contents of `{src.path}`.",
        ))
        # the title is the agent's own upstream output: the instruction describes it instead of stating it
        return _EmailPlan(subject, f"Fwd: <first line of {src.path}>", body, facts, [], asks)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
