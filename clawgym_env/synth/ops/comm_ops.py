"""Communication and coordination operations: reports, messages, notes built from data."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from clawgym_env.synth import checks as ck
from clawgym_env.synth.artifacts import Row, Table, Text, describe_format, fmt_number, serialize
from clawgym_env.synth.coherence import summable
from clawgym_env.synth.datagen import PEOPLE
from clawgym_env.synth.ops.base import TABLE_MUTATIONS, OpContext, OpStep, OutputSpec, write_call
from clawgym_env.synth.phrasing import join_list, pick
from clawgym_env.synth.vocab import TOPICS, MeetingTopic, Vocab


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
        if ctx.v2:  # a total only of a column whose total means something (not a code, a level or a count)
            metric = next((c for c in src.numeric if summable(src, c)), None)
        top = src.rows[: min(3, len(src.rows))]
        title = pick(rng, ("Status update", "Weekly summary", "Review notes", "Situation report"))
        path = f"output/step{ctx.step}_report.md"
        metric_sum = sum(float(r[metric]) for r in src.rows) if metric else 0.0  # type: ignore[arg-type]
        total = fmt_number(metric_sum) if metric else None
        lines = [f"# {title}: {src.label}", "", f"- Records reviewed: {len(src.rows)}"]
        if metric:
            lines.append(f"- Total `{metric}`: {total}")
        lines += ["", "## Leading items", ""]
        lines += [f"{i + 1}. {r[key]}" + (f" ({metric}: {fmt_number(r[metric])})" if metric else "")  # type: ignore[arg-type]
                  for i, r in enumerate(top)]
        content = "\n".join(lines) + "\n"
        facts = [f"Records reviewed: {len(src.rows)}"] + ([f"{total}"] if metric else [])
        if ctx.v2:
            instruction = _status_wording(ctx, path, src.path, title, metric, key, len(top))
        else:
            instruction = pick(rng, (
                f"Write a short Markdown report to `{path}` for {ctx.persona.name.split()[0]}'s colleagues: a level-1 "
                f"heading starting with `{title}`, a bullet `Records reviewed: <n>` with the number of rows in "
                f"`{src.path}`" + (f", a bullet `Total {metric}: <sum of {metric}>`" if metric else "") +
                f", and a `## Leading items` section listing the first {len(top)} `{key}` values of `{src.path}` in order "
                f"as a numbered list.",
                f"Draft `{path}` (Markdown): title line `# {title}: …`, then `Records reviewed: <count of rows in "
                f"{src.path}>`" + (f", then `Total {metric}: <sum>`" if metric else "") + f", then a `## Leading items` "
                f"numbered list of the {'first' if ctx.v2 else 'top'} {len(top)} `{key}` values exactly as they appear "
                f"in `{src.path}`.",
            ))
        if ctx.v2:  # values parsed, not raw text: '**Records reviewed:** 16', 'Total hours: 1,811.0', any heading case
            checks = [ck.heading(f"step{ctx.step}_title", path, title, level=1),
                      ck.labelled_number(f"step{ctx.step}_count", path, "Records reviewed", len(src.rows), tol=0),
                      ck.ordered(f"step{ctx.step}_leading_order", path, ["Leading items"] + [str(r[key]) for r in top])]
            if metric:
                checks.append(ck.labelled_number(f"step{ctx.step}_total", path, f"Total {metric}", metric_sum))
        else:
            checks = [ck.regex(f"step{ctx.step}_title", path, rf"^# {title}\b"),
                      ck.regex(f"step{ctx.step}_count", path, rf"Records reviewed: {len(src.rows)}(?![\d.])"),
                      ck.ordered(f"step{ctx.step}_leading_order", path, ["## Leading items"] + [str(r[key]) for r in top])]
            if metric:
                checks.append(ck.regex(f"step{ctx.step}_total", path,
                                       rf"Total `?{re.escape(metric)}`?: {re.escape(str(total))}(?![\d]|\.\d)"))
        return OpStep(
            op=self.name, instruction=instruction, oracle=[write_call(path, content)], checks=checks,
            params={"summed": [metric] if metric else []},
            outputs=[OutputSpec(path, ("missing", "value", "order"),
                                checked_values=tuple([f"Records reviewed: {len(src.rows)}"] + ([f"Total `{metric}`: {total}"] if metric else [])
                                                     + [str(r[key]) for r in top]))],
            artifact=Text(path=path, content=content, label="status report", facts={"facts": facts}),
        )



def _status_wording(ctx: OpContext, path: str, src: str, title: str, metric: str | None, key: str,
                    k: int) -> str:
    """builtin-v2's status_report instruction: the same four demands (title, count, total, the first
    ``k`` keys in file order), each a sentence with several independent choices."""
    v = {"path": path, "src": src, "title": title, "metric": metric, "key": key, "k": k,
         "me": ctx.persona.name.split()[0]}
    say = ctx.say
    who = "[for {me}'s colleagues|for the rest of the team|that I can [share|circulate|send round]|for [the|our] [team|group]|]"
    if ctx.phrase_rng is not None and ctx.phrase_rng.random() < 0.5:
        opening = say(
            "[Write|Put together|Prepare|Draft|Compose] a [short|brief|compact|concise] [status report|summary|status "
            "note|progress note|report] [on|about|covering|that sums up] `{src}` " + who + " [and [save|write] it|, saved|, written|and put it] "
            "to `{path}` [in Markdown|as Markdown|as a Markdown file|(Markdown)].", **v)
    else:
        opening = say(
            "[I need|I'd like|Please [make|create]|I want you to [make|write]] a [short|brief|compact|concise] Markdown "
            "[status report|summary|status note|write-up|report] [at|in] `{path}` [that [sums up|covers|reports on]|"
            "[based on|built from|drawn from]] `{src}` " + who + ".", **v)
    head = say(
        "[Open|Start|Begin|Head] [it|the report|the file|the document] with a [level-1|top-level] heading[| (a single "
        "hash mark)| (one hash sign)] [that starts with|beginning with|whose text begins with|opening with] `{title}`[|; [what follows|the "
        "rest of the title] is up to you|, followed by [anything you like|whatever you see fit|any wording you like]].", **v)
    count = ("[how many rows|how many records|how many entries|the number of rows|the number of records] `{src}` "
             "[has|contains|holds|lists]")
    total = ("the [sum|total] of `{metric}` [over|across|for] [all|every one of] the rows[| (a plain number is fine)]")
    if metric:
        figures = say(
            "[Below it|Under the heading|After the title|Then|Next], [state|report|say|write down] " + count + " on a line "
            "[labelled|with the label|starting with] `Records reviewed:` and " + total + " on a line [labelled|with "
            "the label|starting with] `Total {metric}:`.", **v)
    else:
        figures = say(
            "[Below it|Under the heading|After the title|Then|Next], [state|report|say|write down] " + count + " on a line "
            "[labelled|with the label|starting with] `Records reviewed:`[| (a plain number is fine)][|, so [readers|"
            "people|the team] [see|know] the scope].", **v)
    first = "the first {k} `{key}` values" if k > 1 else "the first `{key}` value"
    leading = say(
        "[Finish|Close|End|Round it off|Wrap up] with a [section|part|block] [headed|titled|called|under the heading] "
        "`Leading items` [that lists|listing|which lists|giving] " + first + " [of|from|in] `{src}` "
        "[in the order they appear there|in file order|in the same order as the file|exactly as they are ordered in "
        "the file][|, one per line|, as a numbered list|, as a numbered list, one per item][| (do not re-sort them)"
        "|; [no|don't do any] [re-sorting|ranking]|].", **v)
    if ctx.phrase_rng is not None and ctx.phrase_rng.random() < 0.4:
        return " ".join((opening, head, leading, figures.replace("Below it, ", "Also, ", 1)))
    return " ".join((opening, head, figures, leading))


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


_LABELLED_NUMBER = re.compile(r"^([A-Za-z][^:\d]*):\s*([-+]?\d+(?:\.\d+)?)$")
"""A fact that is a label (no digits, no colon) then a number: 'Total hours_open: 1811'."""


def _fact_check(name: str, path: str, value: str, v2: bool = False) -> dict[str, object]:
    """``value`` appears as a whole token run: '7' must not pass as '70', nor '$506.50' as '$506.505'.
    builtin-v2: a ``Label: <number>`` fact is read as a number (``**Label:** 1,811.0`` holds), any
    other fact is matched with Markdown emphasis and code marks removed."""
    m = _LABELLED_NUMBER.match(value) if v2 else None
    if m:
        return ck.labelled_number(name, path, m.group(1), float(m.group(2)), tol=0.001)
    pattern = re.escape(value)
    if v2:  # 'Label:  value' or 'Label:value' reads the same
        pattern = re.sub(r"^((?:[^:\\]|\\.)+?):\\ ", r"\1:\\s*", pattern)
    if value[:1].isalnum():
        pattern = r"(?<![\w.])" + pattern
    if value[-1:].isalnum():
        pattern += r"(?!\w|[.,-]\w)"
    return ck.plain_regex(name, path, pattern, ci=True) if v2 else ck.regex(name, path, pattern, ci=True)


def _long_date(d: date) -> str:
    """How people write dates in prose ('Friday 10 April 2026')."""
    return f"{d:%A} {d.day} {d:%B} {d.year}"


# ---------------------------------------------------------------- draft_message
@dataclass
class _EmailPlan:
    """What an email states, decided from the upstream artifact."""

    subject: str
    body: str
    facts: list[str]
    described: list[list[str]]
    asks: str
    extra_checks: list[dict[str, object]] = field(default_factory=list)
    slack: int = 12
    """Words of leeway above the oracle's length."""
    mutable: list[str] = field(default_factory=list)
    """More text the gate may alter (beyond ``facts``) that the checks depend on."""
    numeric_col: str | None = None
    """The table column the email totals (for the coherence check)."""


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
            plan = self._from_table(rng, src, iso, ctx)
        elif src.facts.get("described"):
            plan = self._from_described(rng, src, iso, ctx)
        else:
            plan = self._forward(rng, src, iso, path, f"step{ctx.step}", ctx)
        subject, facts = plan.subject, plan.facts

        content = (f"To: {recipient} <{email}>\nSubject: {subject}\n\n{greeting}\n\n{plan.body}\n\n"
                   f"{signoff}\n{me}\n")
        lo, hi = _word_span(content, rng, slack=plan.slack)
        if ctx.v2:
            instruction = _draft_wording(ctx, recipient, email, subject, path, plan.asks, _long_date(deadline),
                                         me, lo, hi)
        else:
            instruction = self._v1_wording(rng, recipient, email, subject, path, plan.asks, deadline, me, lo, hi)
        step = f"step{ctx.step}"
        # v2: the header lines and sign-off count beside content only
        checks = [ck.form(ck.regex(f"{step}_email_to", path, rf"^To:.*{re.escape(email)}", ci=True), ctx.v2),
                  ck.form(ck.regex(f"{step}_email_subject", path, rf"^Subject: *{re.escape(subject)} *$", ci=True), ctx.v2)]
        checks += [_fact_check(f"{step}_email_fact_{i}", path, f, ctx.v2) for i, f in enumerate(facts)] + plan.extra_checks
        checks += [_fact_check(f"{step}_email_reply_by", path, f"Reply by: {iso}", ctx.v2),
                   ck.form(ck.regex(f"{step}_email_signoff", path, rf"\b{re.escape(me)}\s*\Z"), ctx.v2),
                   ck.word_range(f"{step}_email_length", path, lo, hi)]
        # a value the gate alters must occur once, or the copy it leaves would still satisfy the check
        targets = tuple(v for v in facts + plan.mutable + [f"Reply by: {iso}"]
                        if content.lower().count(v.lower()) == 1)
        summed = [plan.numeric_col] if plan.numeric_col else []
        return OpStep(
            op=self.name, instruction=instruction, oracle=[write_call(path, content)], checks=checks,
            params={"summed": summed} if summed else {},
            outputs=[OutputSpec(path, ("missing", "value"), checked_values=targets)],
            artifact=Text(path=path, content=content, label=f"email to {recipient}",
                          facts={"facts": facts + [iso],
                                 "described": plan.described + [["the reply-by date", iso]]}),
        )

    @staticmethod
    def _v1_wording(rng: random.Random, recipient: str, email: str, subject: str, path: str, asks: str,
                    deadline: date, me: str, lo: int, hi: int) -> str:
        header = pick(rng, (
            f"Draft an email to {recipient} ({email}) and save it as plain text to `{path}`. It must start with the "
            f"header lines `To: {recipient} <{email}>` and `Subject: {subject}`, then a blank line and the body.",
            f"Write an email for {recipient} <{email}> into `{path}` (plain text): first line `To: {recipient} "
            f"<{email}>`, second line `Subject: {subject}`, a blank line, then the message.",
        ))
        tail = pick(rng, (
            f"Ask them to reply by {_long_date(deadline)}, written as `Reply by: <YYYY-MM-DD>` on its own line. "
            f"Sign off with `{me}` on the last line and keep the whole file, headers included, between {lo} and "
            f"{hi} words.",
            f"Include a line `Reply by: <date>` with {_long_date(deadline)} as YYYY-MM-DD, end with your name "
            f"`{me}` as the very last line, and keep the file between {lo} and {hi} words in total.",
        ))
        return f"{header} {asks} {tail}"

    @staticmethod
    def _from_table(rng: random.Random, src: Table, iso: str, ctx: OpContext) -> _EmailPlan:
        key = src.key or src.columns[0]
        n = len(src.rows)
        count_label = pick(rng, ("Records", "Items in scope", "Entries reviewed", "Rows checked"))
        facts = [f"{count_label}: {n}"]
        described = [[f"the number of {src.label}", str(n)]]
        asks = [f"`{count_label}: <number of {src.label} in {src.path}>`"]
        numeric = [c for c in src.numeric if all(_is_number(r.get(c)) for r in src.rows)]
        if ctx.v2:  # a total only of a column whose total means something (not a mean, a share, a code or a count)
            numeric = [c for c in numeric if summable(src, c)]
        if numeric:
            col = rng.choice(numeric)
            values = [float(r[col]) for r in src.rows]  # type: ignore[arg-type]
            whole = all(isinstance(r[col], int) for r in src.rows)
            total = str(int(sum(values))) if whole else f"{sum(values):.2f}"
            top = min(src.rows, key=lambda r: (-float(r[col]), str(r[key])))[key]  # type: ignore[arg-type]
            facts += [f"Total {col}: {total}", f"Top {key} by {col}: {top}"]
            described += [[f"the total {col}", total], [f"the {key} with the highest {col}", str(top)]]
            how = "a whole number" if whole else "2 decimals, no thousands separator or currency sign"
            numeric_ask: tuple[str, str, bool] | None = (col, key, whole)
            asks += [f"`Total {col}: <sum of {col} over all rows, {how}>`",
                     f"`Top {key} by {col}: <the {key} of the row with the highest {col}; on a tie the "
                     f"alphabetically first {key}>`"]
        else:
            first = src.rows[0][key]
            facts.append(f"First {key}: {first}")
            described.append([f"the first {key}", str(first)])
            asks.append(f"`First {key}: <the {key} of the first row>`")
            numeric_ask = None
        subject = pick(rng, (f"{src.label.capitalize()}: key figures", f"Numbers on the {src.label}",
                             f"Quick update on the {src.label}"))
        intro = pick(rng, (f"Here are the key figures from the {src.label} I went through today.",
                           f"I went through the {src.label} and pulled out the numbers you asked about."))
        closing = pick(rng, ("Let me know if anything looks off.", "Happy to walk you through the details.",
                             "Tell me if you need the full file."))
        body = "\n".join([intro, "", *facts, f"Reply by: {iso}", "", closing])
        if ctx.v2:
            return _EmailPlan(subject, body, facts, described, _table_asks(ctx, src, count_label, numeric_ask),
                              numeric_col=numeric_ask[0] if numeric_ask else None)
        lead = pick(rng, ("In the body, after a short greeting and intro, put these lines using exactly these labels: ",
                          "The body must contain, besides a greeting, these labelled lines: "))
        return _EmailPlan(subject, body, facts, described, lead + "; ".join(asks) + f" (all from `{src.path}`).")

    @staticmethod
    def _from_described(rng: random.Random, src: Text, iso: str, ctx: OpContext) -> _EmailPlan:
        pairs = [(str(d), str(v)) for d, v in src.facts["described"]]
        subject = pick(rng, (f"Re: {src.label}", f"Heads-up: {src.label}", f"FYI: {src.label}"))
        intro = pick(rng, (f"Quick heads-up about the {src.label}. The key details:",
                           f"Sharing the essentials from the {src.label}:"))
        if ctx.v2:  # labelled lines: a value alone (an echo of the instruction, a copied input) earns nothing
            labelled = [f"{_fact_label(d)}: {v}" for d, v in pairs]
            body = "\n".join([intro, "", *[f"- {x}" for x in labelled], "", f"Reply by: {iso}"])
            return _EmailPlan(subject, body, labelled, [list(p) for p in pairs],
                              _described_asks(ctx, src.path, [_fact_label(d) for d, _ in pairs]))
        lines = [f"- {d[0].upper() + d[1:]}: {v}" for d, v in pairs]
        body = "\n".join([intro, "", *lines, "", f"Reply by: {iso}"])
        wanted = join_list([d for d, _ in pairs])
        asks = pick(rng, (
            f"In the body, give a short heads-up about `{src.path}` that states {wanted}, each copied exactly as "
            f"written in that file.",
            f"Summarise `{src.path}` for them: mention {wanted}, spelled exactly as they appear there.",
        ))
        return _EmailPlan(subject, body, [v for _, v in pairs], [list(p) for p in pairs], asks)

    @staticmethod
    def _forward(rng: random.Random, src: Text, iso: str, path: str, step: str, ctx: OpContext) -> _EmailPlan:
        """Forward the document itself: checked against the agent's own upstream file, whatever its wording."""
        if not src.content.strip():
            raise TypeError("draft_message cannot forward an empty document")
        marker = "---------- Forwarded document ----------"
        subject = f"Fwd: {src.label}"
        note = pick(rng, ("Forwarding the document below for your review.",
                          "Sharing this with you before we meet; the full text is below."))
        body = "\n".join([note, f"Reply by: {iso}", "", marker, src.content.strip()])
        v2 = ctx.v2
        if v2:
            asks = ctx.say("[After|Below|Under] a [one-line|short|brief] note [of your own||to {who}], [add|put|insert] "
                        "the line `{marker}` [and paste|and copy|followed by] the [full|complete|whole] text of `{src}` "
                        "[unchanged|as it is|word for word|without edits] [below it|underneath|after it|]"
                        "[| (that is the document I want them to [see|read|review])].",
                        marker=marker, src=src.path, who="introduce it")
        else:
            asks = pick(rng, (
                f"After a one-line note, add the line `{marker}` and paste the full text of `{src.path}` unchanged "
                f"below it.",
                f"Below a short note, put the line `{marker}` followed by the complete, unedited contents of "
                f"`{src.path}`.",
            ))
        lines = [ln.strip() for ln in src.content.splitlines() if ln.strip()]
        # v2: the forwarded copy is the agent's own upstream file (a copied input or an echo there matches
        # itself), so it counts beside the email's own content (the reply-by date) only
        extra = [ck.form(ck.regex(f"{step}_email_marker", path, rf"^{re.escape(marker)}\s*$"), v2),
                 ck.form(ck.includes_file(f"{step}_email_forwarded", path, src.path), v2)]
        # the gate alters the document's lines in the email: the forwarded copy must then fail
        return _EmailPlan(subject, body, [], [], asks, extra_checks=extra,
                          slack=20 + len(src.content.split()) // 2, mutable=lines)


def _fact_label(desc: str) -> str:
    """The label a message gives a described fact: 'the new delivery date' -> 'New delivery date'."""
    core = desc[4:] if desc.lower().startswith("the ") else desc
    return core[:1].upper() + core[1:]


def _table_asks(ctx: OpContext, src: Table, count_label: str, numeric: tuple[str, str, bool] | None) -> str:
    """builtin-v2: the labelled lines an email states about a table, each described in words."""
    v = {"src": src.path, "label": src.label, "cl": count_label}
    lines = [ctx.say("`{cl}: <n>` [with|giving|stating] [the number of {label} in|how many {label} there are in|the "
                  "count of {label} in|how many {label} are listed in] `{src}`", **v)]
    if numeric:
        col, key, whole = numeric
        v.update(col=col, key=key)
        how = ("[as a whole number|as an integer|with no decimals]" if whole
               else "[rounded to 2 decimals|with 2 decimals|to two decimal places]")
        lines.append(ctx.say("`Total {col}: <sum>` with the [sum|total] of `{col}` [over all rows|across every row|"
                          "for all rows|over the whole file], " + how, **v))
        lines.append(ctx.say("`Top {key} by {col}: <{key}>` [naming|giving|with] the `{key}` [of the row with|that "
                          "has] the [highest|largest] `{col}` [(on a tie, the alphabetically first)|(ties go to the "
                          "alphabetically first)|(if two tie, the one first in A-Z order)]", **v))
    else:
        v["key"] = src.key or src.columns[0]
        lines.append(ctx.say("`First {key}: <{key}>` [with|giving|naming] the `{key}` of the [first|top] row [of|in] "
                          "the file", **v))
    body = join_list(lines) if len(lines) < 3 else "; ".join(lines[:-1]) + "; and " + lines[-1]
    lead = ctx.say("[In the body|Below the greeting|In the message itself|After a [short|brief] greeting and "
                "[a line of|an] intro], [put|include|add|list] [these|the following] [labelled|] lines[, with the "
                "labels [exactly as written|spelled exactly like this]|, labels verbatim|]:")
    return f"{lead} {body}."


def _described_asks(ctx: OpContext, src: str, labels: list[str]) -> str:
    """builtin-v2: restate the facts of an upstream text as labelled lines (the values are the work)."""
    shown = join_list([f"`{lb}: <value>`" for lb in labels])
    return ctx.say("[In the body|Below the greeting|In the message], [give|pass on|restate|share] the [key|main|"
                "important] [details|facts|points] [from|of] `{src}`[, one per line,| on separate lines|] [labelled "
                "exactly|with exactly these labels|using these labels as written|labelled like this]: {shown}[, each "
                "value [copied|taken] exactly as [written|it appears] in that file|; copy each value exactly as that "
                "file [writes|gives] it|, values [spelled|copied] exactly as in the file].", src=src, shown=shown)


def _draft_wording(ctx: OpContext, recipient: str, email: str, subject: str, path: str, asks: str, long_date: str,
                   me: str, lo: int, hi: int) -> str:
    """builtin-v2's draft_message instruction: headers, the plan's asks, reply-by, sign-off and length, each
    a grammar, in one of several orders."""
    v = {"r": recipient, "e": email, "subj": subject, "path": path, "date": long_date, "me": me, "lo": lo, "hi": hi,
         "first": recipient.split()[0]}
    rnd = ctx.phrase_rng or ctx.rng
    if rnd.random() < 0.5:
        header = ctx.say("[Draft|Write|Compose|Put together|Prepare] [an email|a short email|a brief email|a quick "
                      "email|a short message] [to|for] {r} ({e})[| on my behalf| for me][ and save it|, saved] [as plain "
                      "text|in plain text|as a plain-text file] [to|at|in] `{path}`.", **v) + " " + ctx.say("[It must|It should|The file should|Make the file|The email has to|The text must] [start|begin|open] "
                 "with [the header lines|two header lines,|these two header lines:|the two lines] `To: {r} <{e}>` "
                 "[and|followed by] `Subject: {subj}`[| exactly as written| verbatim][, then a blank line and the "
                 "body|, followed by a blank line and then the message|; after a blank line comes the body|, each on "
                 "its own line, then an empty line before the body].", **v)
    else:
        header = ctx.say("[I need an email|Please write an email|Write me an email|Prepare an email|Draft a message] "
                      "[for|to] {r}[| from me] [in|at] `{path}` [(plain text)|as plain text|in plain text]: [the first "
                      "line is|line one is|line one must be] `To: {r} <{e}>`, [the second|line two|the next one] "
                      "`Subject: {subj}`, [then a blank line and the message|then an empty line and the body|and the "
                      "body after a blank line|then the body after an empty line].", **v)
    if rnd.random() < 0.6:
        reply = ctx.say("[Ask|Kindly ask|Politely ask] [{first}|them] to [reply|get back to you|answer|respond|send "
                     "their answer] [by|no later than|before the end of] {date}[, and|;] [write|give|put] [that date|"
                     "the date|the deadline|this date] as `Reply by: <YYYY-MM-DD>` on [a line of its own|its own line|a "
                     "separate line].", **v)
    else:
        reply = ctx.say("[Include|Add|Put in|Make sure there is] [a line|a separate line|one line|a line of its own] "
                     "`Reply by: <YYYY-MM-DD>` [giving|with|holding|carrying] {date}[| in that format| written that way|"
                     " as an ISO date][| as the reply deadline| so they know the deadline| as the date I need an "
                     "answer by][| in the body| somewhere in the body].", **v)
    sign = ctx.say("[Sign off|End|Finish|Close|Wrap up] with [your name|my name|the name|just the name] `{me}` [on "
                "the last line|as the very last line|on the final line][, and|;] [keep|make] [the whole file, headers "
                "included,|the entire file (headers too)|the file as a whole, header lines included,] [between {lo} "
                "and {hi} words[| long| in total]|at {lo} to {hi} words|within {lo}-{hi} words|no shorter than {lo} "
                "and no longer than {hi} words].", **v)
    if rnd.random() < 0.5:
        return " ".join((header, asks, reply, sign))
    return " ".join((header, reply, asks, sign))


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---------------------------------------------------------------- rewrite_message
# Each banned phrase comes with a filler sentence that puts it in the draft, so the constraint bites.
_BANNED: dict[str, str] = {
    "ASAP": "Please get back to me ASAP if anything here is unclear.",
    "circle back": "I'll circle back on the remaining details later.",
    "per my last email": "Per my last email, we had already flagged this as a possible risk.",
    "touch base": "Happy to touch base by phone if that is easier.",
    "to be honest": "To be honest, it has been a hectic few weeks on our side.",
    "kind of": "It has been kind of a busy month around here.",
    "sorry to bother you": "Sorry to bother you with yet another message about this.",
    "at the end of the day": "At the end of the day we just want this to go smoothly.",
    "going forward": "Going forward we will try to give more notice.",
    "hopefully": "Hopefully this all makes sense.",
    "basically": "Basically nothing else changes.",
    "no worries": "No worries if you need a day to think about it.",
}
_NEUTRAL_FILLER = ("Hope your week is going well.", "Thanks again for your patience with all of this.",
                   "I know this is a lot of detail for one message.", "Let me know what you think.",
                   "I wanted to make sure everyone hears it from us first.")


@dataclass
class _Point:
    """One fact of a message: how the draft rambles about it and how a clean version states it."""

    desc: str
    value: str
    """As the rewrite must contain it."""
    raw: str
    """As the draft writes it (differs from ``value`` only for dates the rewrite must normalise)."""
    concise: str
    verbose: str

    def short(self) -> str:
        return self.concise.format(v=self.value)

    def long(self) -> str:
        return self.verbose.format(v=self.raw)


def _date_point(desc: str, d: date, iso_dates: bool, concise: str, verbose: str) -> _Point:
    return _Point(desc, d.isoformat(), _long_date(d) if iso_dates else d.isoformat(), concise, verbose)


def _money(rng: random.Random, lo: int, hi: int) -> str:
    return f"${rng.randrange(lo, hi) + rng.choice((0, 0.5, 0.25, 0.9)):,.2f}"


def _message_scenario(rng: random.Random, iso_dates: bool, exclude: tuple[str, ...],
                      vocab: Vocab | None = None) -> tuple[str, bool, str, list[_Point]]:
    """(subject, addressed to a team?, recipient, points) for one kind of message; builtin-v2 passes
    the workplace's ``vocab`` (its systems and meetings)."""
    kind = rng.randrange(4)
    recipient, colleague = _other_people(rng, 2, exclude)
    when = _some_date(rng, 40, 330)
    if kind == 0:
        po = f"PO-{rng.randrange(4000, 9999)}"
        return f"Order {po} delivery update", False, recipient, [
            _Point("the order number", po, po,
                   "Your order {v} will not ship on the original date because our supplier delivered parts late.",
                   "I am writing because, unfortunately, your order {v} is not going to ship on the date we originally "
                   "gave you, mainly because our own supplier delivered some of the parts quite a bit later than they "
                   "had promised us."),
            _date_point("the new delivery date", when, iso_dates, "The new delivery date is {v}.",
                        "After a lot of back and forth with the warehouse team, the new delivery date that we can "
                        "realistically commit to at this point is {v}, assuming nothing else goes wrong."),
            _Point("the credit amount", (m := _money(rng, 60, 2400)), m,
                   "To make up for the delay, we will credit {v} to your account.",
                   "Because we know this causes extra work on your side, we have decided that we would like to credit "
                   "{v} to your account as a small gesture to make up for the delay."),
            _Point("the contact person", colleague, colleague, "If you have questions, please contact {v}.",
                   "If any questions come up in the meantime, the best person to talk to is my colleague {v}, who is "
                   "handling the shipment day to day and knows all the details."),
        ]
    if kind == 1:
        # builtin-v2: a system the workplace's memo lines never mention, so that no other input (the
        # notes an archive step bundles) holds the fact a copied file would be credited for
        distinct = [s for s in vocab.systems if not any(s.lower() in n.lower() for n in vocab.notes)] if vocab else []
        system = rng.choice(distinct or (vocab.systems if vocab else ("billing portal", "shared drive",
                                                                       "room booking system", "VPN gateway",
                                                                       "HR system")))
        start = rng.randrange(17, 22)
        window = f"{start:02d}:00-{start + 2:02d}:30"
        ticket = f"CHG-{rng.randrange(1000, 9999)}"
        return f"Planned downtime: {system}", True, recipient, [
            _Point("the system", system, system, "The {v} will be offline for planned maintenance.",
                   "As some of you may already have heard, the {v} is going to be taken offline for some planned "
                   "maintenance work that the vendor has been asking us to schedule for quite a while now."),
            _date_point("the maintenance date", when, iso_dates, "The work happens on {v}.",
                        "The work is currently planned for {v}, which was the only slot that worked for both the "
                        "vendor and our own infrastructure people."),
            _Point("the time window", window, window, "Expect downtime between {v}.",
                   "During that evening you should expect the system to be unavailable for most of the time between "
                   "{v}, although it might come back a little earlier if everything goes to plan."),
            _Point("the change ticket", ticket, ticket, "The change is tracked as {v}.",
                   "For those who like to follow along, the whole change is being tracked under ticket {v} in the "
                   "service desk, where you can also leave comments."),
            _Point("the contact person", colleague, colleague, "Questions go to {v}.",
                   "If you have any questions or concerns about any of this, please reach out to {v}, who is "
                   "coordinating the work with the vendor."),
        ]
    if kind == 2:
        meeting = rng.choice(vocab.meetings if vocab else ("quarterly budget review", "project kickoff",
                                                           "supplier review", "board prep session"))
        room = rng.choice(("Room 3.12", "the Harbor meeting room", "Room B204", "the second-floor lounge"))
        time = f"{rng.randrange(9, 16):02d}:{rng.choice(('00', '15', '30', '45'))}"
        return f"New date for the {meeting}", True, recipient, [
            _Point("the meeting", meeting, meeting, "The {v} has to move.",
                   "I am really sorry to do this again, but it looks like the {v} that we all had in our calendars is "
                   "going to have to move, because several people cannot make the original slot."),
            _date_point("the new date", when, iso_dates, "The new date is {v}.",
                        "After checking everyone's calendars more than once, the new date that seems to work for "
                        "nearly all of us is {v}."),
            _Point("the start time", time, time, "We start at {v}.",
                   "We will start at {v} sharp, so please try to be there a few minutes early so that we can get "
                   "going on time."),
            _Point("the room", room, room, "We meet in {v}.",
                   "Because the usual room is being renovated, we will be meeting in {v} instead, which should have "
                   "enough space for everybody."),
            _Point("the presenter", colleague, colleague, "{v} will present the first agenda item.",
                   "The first item on the agenda will be presented by {v}, who has kindly agreed to prepare a few "
                   "slides for it."),
        ]
    order = f"ORD-{rng.randrange(10000, 99999)}"
    ref = f"RF-{rng.randrange(1000, 9999)}"
    return f"Your refund for order {order}", False, recipient, [
        _Point("the order number", order, order, "We have approved the refund for order {v}.",
               "Thank you so much for your patience while we looked into this, and I am happy to tell you that after "
               "reviewing everything we have now approved the refund for your order {v}."),
        _Point("the refund amount", (m := _money(rng, 15, 900)), m, "The refund amount is {v}.",
               "The total amount that will be refunded to you, including the original shipping costs, comes to {v}."),
        _date_point("the refund date", when, iso_dates, "You will receive it by {v}.",
                    "Depending on your bank it can take a few days to show up, but you should have received the money "
                    "by {v} at the latest."),
        _Point("the refund reference", ref, ref, "The reference is {v}.",
               "In case you need to contact us about it again, the reference number for this refund is {v}."),
    ]


def _rewrite_wording(ctx: OpContext, thread: bool, src: str, to: str, path: str, iso_dates: bool, quoted: str,
                     lo: int, hi: int, greeting: str, signoff: str, me: str) -> str:
    """builtin-v2's rewrite_message instruction: what to rewrite, what to keep, what to drop, the frame."""
    v = {"src": src, "to": to, "path": path, "q": quoted, "lo": lo, "hi": hi, "g": greeting, "so": signoff, "me": me}
    rnd = ctx.phrase_rng or ctx.rng
    if thread:
        what = ctx.say("[Turn|Condense|Rework|Distil|Boil down] the [Slack thread|chat thread|thread export|team "
                    "chat] in `{src}` into [one|a single] [clean|clear|concise|tidy|proper] announcement for the team"
                    "[| I can post][ and save it|, saved|, written] [to|in|at] `{path}`.", **v)
    else:
        what = ctx.say("[Rewrite|Clean up|Rework|Turn|Reshape] [my draft email|the draft email I wrote|my rambling "
                    "draft|the draft] in `{src}` into a [clean|clear|concise|tidy|proper] [message|email] [to|for] "
                    "{to}[| that I can send][ and save it|, saved|, written] [to|in|at] `{path}`.", **v)
    keep = ctx.say("[Keep|Preserve|Carry over|Hold on to] [every|each] [name (of people, systems, rooms or meetings)|"
                "name of a person, system, room or meeting], date, time, amount and reference number [it mentions|"
                "mentioned in it|from the original] " + (
                    "[unchanged except for dates, which must be written as YYYY-MM-DD|exactly as written, except "
                    "that every date [must be|is] written as YYYY-MM-DD|word for word, but with every date "
                    "[rewritten|turned] into YYYY-MM-DD]" if iso_dates else
                    "[exactly as written|unchanged|word for word|verbatim|character for character]")
                + "[|: [nothing|no detail] may be lost|, since [people|the readers] rely on them].", **v)
    drop = ctx.say("[Leave out|Drop|Cut|Remove|Avoid|Get rid of] [the phrases|these phrases|the filler phrases|the "
                "stock phrases] {q} [entirely|completely|altogether|everywhere][| because they [sound|read as] [sloppy|"
                "unprofessional|like filler|too casual]| (they read as filler)|: [the reader does not "
                "need them|nobody needs them|they add nothing]].", **v)
    frame = ctx.say("[Keep it|Make it|It must be|The result has to be] [between {lo} and {hi} words[| long| in "
                 "total]|{lo} to {hi} words long|within {lo}-{hi} words][, and|;] [start|open|begin] with the line "
                 "`{g}` and [end|close|finish] with `{so}` [followed by|and then] `{me}` on the [next|following|"
                 "last] line.", **v)
    middle = [keep, drop]
    if rnd.random() < 0.5:
        middle.reverse()
    if rnd.random() < 0.3:
        return " ".join((what, frame, *middle))
    return " ".join((what, *middle, frame))


class RewriteMessage:
    """Rewrite a rambling draft (an email, or a chat thread) into a clean message under constraints.

    Checks: every fact kept (one check each), each banned phrase gone (one each), a word range, the
    required greeting and sign-off. A good agent's wording is free; only the constraints are scored.
    """

    name = "rewrite_message"
    category = "communication"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        me = ctx.persona.name
        iso_dates = ctx.difficulty >= 3
        subject, to_team, recipient, points = _message_scenario(rng, iso_dates, (), ctx.vocab() if ctx.v2 else None)
        if ctx.difficulty <= 2:
            points = points[:3]
        thread = to_team and rng.random() < 0.5
        r_first = recipient.split()[0]
        greeting = "Hi all," if to_team else pick(rng, (f"Hi {r_first},", f"Dear {r_first},", f"Hello {r_first},"))
        signoff = pick(rng, ("Best regards,", "Kind regards,", "Thanks,", "All the best,"))
        banned = rng.sample(sorted(_BANNED), k=2 + min(ctx.difficulty, 4) // 2)

        fillers = [_BANNED[b] for b in banned] + rng.sample(_NEUTRAL_FILLER, k=2)
        rng.shuffle(fillers)
        if thread:
            src_path = "input/slack_thread.txt"
            source = self._thread(rng, me, recipient, points, fillers)
        else:
            src_path = "input/draft_email.txt"
            source = self._draft(rng, me, recipient, subject, r_first, to_team, points, fillers)
        out_ext = rng.choice(("txt", "md"))
        path = f"output/step{ctx.step}_message.{out_ext}"
        content = f"{greeting}\n\n" + " ".join(p.short() for p in points) + f"\n\n{signoff}\n{me}\n"
        lo, hi = _word_span(content, rng, slack=8)
        assert not any(b.lower() in content.lower() for b in _BANNED), "the clean rewrite uses a banned phrase"
        assert len(_WORD_RE.findall(source)) > hi and len(source.split()) > hi, "the draft must be too long"

        quoted = join_list([f'"{b}"' for b in banned])
        what = ("the Slack thread in `input/slack_thread.txt` into one clean announcement for the team"
                if thread else f"my draft email in `{src_path}` into a clean message to "
                               f"{'the team' if to_team else recipient}")
        if ctx.v2:
            instruction = _rewrite_wording(ctx, thread, src_path, "the team" if to_team else recipient, path, iso_dates,
                                           quoted, lo, hi, greeting, signoff, me)
        else:
            instruction = pick(rng, (
                f"Rewrite {what} and save it to `{path}`. Keep every name, date, time, amount and reference number "
                f"mentioned in it exactly as written{', except that every date must be written as YYYY-MM-DD' if iso_dates else ''}; "
                f"leave out the phrases {quoted} entirely; keep it between {lo} and {hi} words. Start with the line "
                f"`{greeting}` and end with `{signoff}` followed by `{me}` on the next line.",
                f"Turn {what}, saved as `{path}`: open with `{greeting}`, close with `{signoff}` and then `{me}` on its "
                f"own line, stay within {lo}-{hi} words, and do not use any of these phrases: {quoted}. All the concrete "
                f"details (people, dates, times, amounts, reference numbers) must survive unchanged"
                + (", with dates rewritten as YYYY-MM-DD." if iso_dates else "."),
            ))
        step = f"step{ctx.step}"
        absent = [ck.absent_words(f"{step}_no_{re.sub(r'[^a-z]+', '_', b.lower()).strip('_')}", path, [b])
                  for b in banned]
        checks = [_fact_check(f"{step}_kept_fact_{i}", path, p.value, ctx.v2) for i, p in enumerate(points)]
        if ctx.v2:  # the draft itself holds every fact: a kept fact counts in a message that dropped a banned phrase
            checks = [{**c, "needs_any": [a["name"] for a in absent]} for c in checks]
        checks += absent
        checks += [ck.word_range(f"{step}_length", path, lo, hi),
                   ck.form(ck.regex(f"{step}_greeting", path, rf"\A\s*{re.escape(greeting)}"), ctx.v2),
                   ck.form(ck.regex(f"{step}_signoff", path, rf"{re.escape(signoff)}\s*\n\s*{re.escape(me)}\s*\Z"),
                           ctx.v2)]
        return OpStep(
            op=self.name, instruction=instruction, oracle=[write_call(path, content)], checks=checks,
            outputs=[OutputSpec(path, ("missing", "value"), checked_values=tuple(p.value for p in points))],
            artifact=Text(path=path, content=content, label="rewritten message",
                          facts={"facts": [p.value for p in points],
                                 "described": [[p.desc, p.value] for p in points]}),
            input_files={src_path: source.encode()},
        )

    @staticmethod
    def _draft(rng: random.Random, me: str, recipient: str, subject: str, r_first: str, to_team: bool,
               points: list[_Point], fillers: list[str]) -> str:
        sentences = [p.long() for p in points]
        for f in fillers:  # fillers anywhere but before the first fact
            sentences.insert(rng.randrange(1, len(sentences) + 1), f)
        cut = max(1, len(sentences) // 2)
        to = "To: team@" + rng.choice(_MAIL_DOMAINS) if to_team else f"To: {recipient} <{_address(recipient, rng)}>"
        hello = "Hey everyone!!" if to_team else f"Hey {r_first}!!"
        return (f"{to}\nSubject: {subject}\n\n{hello}\n\n" + " ".join(sentences[:cut]) + "\n\n"
                + " ".join(sentences[cut:]) + f"\n\nCheers,\n{me.split()[0]}\n")

    @staticmethod
    def _thread(rng: random.Random, me: str, recipient: str, points: list[_Point], fillers: list[str]) -> str:
        people = [recipient, me] + _other_people(rng, 1, (recipient,))
        minute = 9 * 60 + rng.randrange(0, 90)
        lines = ["#team-announcements (thread export)", ""]
        chatter = ["can someone turn this into one proper announcement?"] + [p.long() for p in points]
        for f in fillers:
            chatter.insert(rng.randrange(1, len(chatter) + 1), f)
        for i, text in enumerate(chatter):
            who = people[0] if i == 0 else rng.choice(people)
            lines.append(f"[{minute // 60:02d}:{minute % 60:02d}] {who}: {text}")
            minute += rng.randrange(1, 6)
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- action_items
_Topic = MeetingTopic

_TOPICS = (
    _Topic("Budget", "BUD", (("send the revised budget to finance", ("budget",)),
                             ("collect the missing supplier quotes", ("quote",)),
                             ("reconcile the travel expenses", ("travel", "expense"))),
           "We agreed to cap the event budget at {v}.", ("$12,000", "$8,500", "$15,250")),
    _Topic("Venue", "VEN", (("confirm the room booking with facilities", ("room", "booking")),
                            ("check step-free access at the side entrance", ("access", "step-free", "entrance")),
                            ("order extra chairs for the main hall", ("chair",))),
           "{v} will be the main room.", ("Hall B", "Room 204", "Atrium Hall")),
    _Topic("Hiring", "HIR", (("schedule the second-round interviews", ("interview",)),
                             ("post the job ad on the careers page", ("job", "careers")),
                             ("send the offer letter draft to legal", ("offer",))),
           "The role will be advertised with a salary band of {v}.", ("$58,000-$64,000", "$47,500-$52,000")),
    _Topic("Website", "WEB", (("update the FAQ page", ("faq",)),
                              ("fix the broken signup form", ("signup", "sign-up", "sign up")),
                              ("replace the outdated team photos", ("photo",))),
           "The new site will be built on {v}.", ("Ghost", "WordPress", "Webflow")),
    _Topic("Training", "TRN", (("book the first-aid trainer", ("first-aid", "first aid", "trainer")),
                               ("share the onboarding slides", ("slide", "onboarding")),
                               ("collect the feedback forms from the last session", ("feedback",))),
           "Training sessions will be held in {v}.", ("Room 3.12", "Room 1.05", "Studio C")),
    _Topic("Inventory", "STK", (("count the spare laptops in storage", ("laptop",)),
                                ("order replacement visitor badges", ("badge",)),
                                ("label the new printer cartridges", ("cartridge",))),
           "We will keep a minimum stock of {v}.", ("20 toner cartridges", "15 spare keyboards", "30 visitor lanyards")),
    _Topic("Communications", "COM", (("draft the newsletter announcement", ("newsletter",)),
                                     ("send the reminder to all volunteers", ("reminder", "volunteer")),
                                     ("update the shared calendar", ("calendar",))),
           "The newsletter will be sent through {v} from now on.", ("Mailchimp", "Buttondown", "Brevo")),
    _Topic("Vendors", "VND", (("renew the cleaning contract", ("cleaning",)),
                              ("ask the caterer for a vegetarian menu", ("menu", "vegetarian", "caterer")),
                              ("request a second quote for the printing", ("print",))),
           "We are switching to {v} for catering.", ("Green Fork Catering", "Maple Kitchen", "Urban Plate")),
    _Topic("Security", "SEC", (("rotate the shared Wi-Fi password", ("password", "wi-fi", "wifi")),
                               ("review the door access logs", ("access log", "door")),
                               ("remove former staff from the group inbox", ("inbox",))),
           "Everyone moves to {v} by the end of the quarter.", ("Bitwarden", "1Password", "KeePassXC")),
)
_MEETINGS = ("Weekly ops sync", "Planning meeting", "Team check-in", "Monthly coordination call",
             "Project steering meeting")


_OFFICE_TOPICS = ("Budget", "Hiring", "Training", "Security", "Vendors")
"""Topics any workplace's meeting may raise (the others of :data:`_TOPICS` belong to some workplaces only)."""


def _v2_topics(rng: random.Random, vocab: Vocab, k: int) -> list[_Topic]:
    """builtin-v2: the workplace's own agenda topics, then office topics, in a random order."""
    own = list(TOPICS[vocab.family])
    office = [t for t in _TOPICS if t.name in _OFFICE_TOPICS]
    return rng.sample(own + rng.sample(office, k - len(own)), k)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass
class _Item:
    ref: str
    owner: str
    topic: str
    due: date
    task: str
    keywords: tuple[str, ...]


def _action_wording(ctx: OpContext, kind: str, src: str, prefix: str, path: str, fmt: str, d: int) -> str:
    """builtin-v2's action_items instruction: what counts as an action item, the table, its order."""
    v = {"kind": kind, "src": src, "ex": f"{prefix}-123", "path": path, "fmt": describe_format(fmt)}
    rnd = ctx.phrase_rng or ctx.rng
    what = ctx.say("[Go through|Read through|Work through|Comb through] the meeting {kind} in `{src}` and [pull out|"
                "extract|collect|list] the action items[| that came out of it]: [tasks|pieces of work|jobs] [an attendee|"
                "one of the attendees|a named attendee] [committed to|agreed to do|took on], each with a due date and a "
                "tracker reference [such as|like|in the form of] `{ex}`.", **v)
    skip = ctx.say("[Skip|Ignore|Leave out] [work|tickets|items] [reported as already closed|mentioned as closed|that "
                "were already closed] and [ideas|suggestions] [nobody took on|no one picked up|that nobody committed "
                "to][| (those are not action items)|; they are not action items].", **v)
    year = ("[; a date without a year is in the meeting's year|; dates given without a year fall in the meeting's year]"
            if d >= 3 else "")
    table = ctx.say("[Save|Write|Store|Put] them [to|in|at] `{path}` as {fmt}[, with|, using|; give it] exactly the columns `ref`, `owner` "
                 "([the person's full name as listed under Attendees|the owner's full name, as on the attendee list|their "
                 "full name from the Attendees line]), `topic` ([the agenda section where the item was raised, named as "
                 "in the {kind}|the section of the {kind} the item came up in, named as there]), `due` (YYYY-MM-DD" + year
                 + ") and `days_left` ([whole days from the meeting date to|the number of days from the meeting date "
                 "until|how many days lie between the meeting date and] `due`)[, sorted by|, ordered by|; sort the rows by|; order "
                 "them by|, rows sorted by] `due`[| (earliest first)| from the earliest deadline] [and then|with ties "
                 "broken by|and within a day by|then by] `ref`[| (A to Z)| alphabetically].", **v)
    parts = [what, skip, table] if rnd.random() < 0.6 else [what, table, skip]
    if d >= 4:
        parts.append(ctx.say("[If|Where|When|In case] a deadline [is moved|gets pushed back|slips|is postponed] "
                          "later in the meeting, [use|take|go with] the new date[| (the last word counts)][; the topic stays the section where the item was first raised|, but the topic "
                          "stays the section where the item first came up|; keep the topic where the item was first "
                          "raised].", **v))
    return " ".join(parts)


def _followup_wording(ctx: OpContext, md: str, decisions: bool) -> str:
    """builtin-v2: the checklist (and decisions) that action_items adds from difficulty 2."""
    v = {"md": md}
    text = ctx.say("[Then|Also|After that,|Next,] [write|save|create] `{md}`[, a checklist I can post|, a to-do list "
                "for the team|]: a Markdown checklist with one line per action item in the same order, [formatted|"
                "written as|each in the form] `- [ ] <owner full name> - <short description of the task> - due "
                "<YYYY-MM-DD>`", **v)
    if decisions:
        return text + ctx.say("[, followed by|, then|, and after it] a `## Decisions` section with one bullet per "
                           "decision [taken|made|agreed] in the meeting ([names, amounts and numbers exactly as stated|"
                           "keep names, amounts and numbers exactly as said|with names, amounts and numbers as "
                           "stated]).", **v)
    return text + "."


class ActionItems:
    """Extract the action items (owner, tracker ref, due date) buried in meeting notes or a transcript.

    The table holds only facts with one right answer (ref, owner's full name, agenda topic, ISO due
    date, days left), so it can feed later steps; the optional checklist is scored per line on owner +
    due date + a keyword, so the agent's wording of each task does not matter.
    """

    name = "action_items"
    category = "communication"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        d = ctx.difficulty
        day = _some_date(rng, 10, 280)
        day -= timedelta(days=max(0, day.weekday() - 4))  # meetings happen on weekdays
        title = rng.choice(_MEETINGS) if not ctx.v2 else _capital(rng.choice(ctx.vocab().meetings))
        topics = _v2_topics(rng, ctx.vocab(), min(3 + d // 2, 5)) if ctx.v2 else rng.sample(_TOPICS, min(3 + d // 2, 5))
        attendees = _other_people(rng, 3 + d // 2)
        by_first = {p.split()[0]: p for p in attendees}
        firsts = list(by_first)
        transcript = rng.random() < 0.5
        used_refs: set[str] = set()

        def new_ref(prefix: str) -> str:
            while True:
                ref = f"{prefix}-{rng.randrange(100, 1000)}"
                if ref not in used_refs:
                    used_refs.add(ref)
                    return ref

        def say_due(due: date) -> str:
            return f"{due:%A}, {due:%B} {due.day}" if d >= 3 and rng.random() < 0.6 else due.isoformat()

        items: list[_Item] = []
        decisions: list[tuple[str, str]] = []  # (sentence, the value a summary must keep)
        sections: list[tuple[str, list[tuple[str, str]]]] = []  # (topic, [(speaker first name or "", text)])
        for topic in topics:
            n_items = 1 if d <= 2 else rng.choice((1, 2))
            picked = rng.sample(topic.tasks, n_items + 1)
            lines: list[tuple[str, str]] = []
            a, b = rng.sample(firsts, 2)
            lines.append((a, pick(rng, (f"Quick update on {topic.name.lower()}: nothing is blocked yet.",
                                        f"I went through the open questions on {topic.name.lower()} with {b}.",
                                        f"Not much news on {topic.name.lower()} since last time."))))
            if d >= 2:
                lines.append((b, f"{new_ref(topic.prefix)} was closed last week, so that one is off the list."))
            for task, keywords in picked[:n_items]:
                owner = rng.choice(firsts)
                due = day + timedelta(days=rng.randrange(2, 29))
                ref = new_ref(topic.prefix)
                items.append(_Item(ref, by_first[owner], topic.name, due, task, keywords))
                other = rng.choice([f for f in firsts if f != owner])
                phrasings = [
                    [(owner, f"I'll {task} by {say_due(due)}. Logging it as {ref}.")],
                    [(other, f"{owner}, can you {task} by {say_due(due)}?"),
                     (owner, f"Sure, I'll take it. It's {ref} in the tracker.")],
                ]
                if owner != firsts[0]:  # the chair hands items to others, not to themself
                    phrasings.append([(firsts[0], f"So {ref} goes to {owner}: {task}, due {say_due(due)}.")])
                lines += pick(rng, phrasings)
            if d >= 2:
                idea = picked[n_items][0]
                lines.append((a, pick(rng, (f"We should probably {idea} at some point, but nobody has time this month.",
                                            f"Would be nice if someone could {idea} eventually.",
                                            f"Parking this one: maybe {idea} next quarter."))))
            value = rng.choice(topic.options)
            decisions.append((topic.decision.format(v=value), value))
            lines.append((firsts[0], f"Decision: {decisions[-1][0]}"))
            sections.append((topic.name, lines))
        if d >= 4:  # a deadline moved later in the meeting
            moved = rng.choice(items)
            moved.due = moved.due + timedelta(days=rng.randrange(3, 11))
            who = moved.owner.split()[0]
            sections.append(("Any other business", [
                (who, f"Heads-up: {moved.ref} slips to {say_due(moved.due)}, I'm out that week."),
                (firsts[0], "Noted, thanks.")]))
        items.sort(key=lambda it: (it.due, it.ref))

        date_text = _long_date(day) if d >= 4 else day.isoformat()
        if transcript:
            src_path = "input/meeting_transcript.txt"
            source = self._transcript(rng, title, date_text, attendees, sections)
        else:
            src_path = "input/meeting_notes.md"
            source = self._notes(title, date_text, attendees, ctx.persona.name, sections)

        fmt = rng.choice(("csv", "json"))
        columns = ["ref", "owner", "topic", "due", "days_left"]
        rows: list[Row] = [{"ref": it.ref, "owner": it.owner, "topic": it.topic, "due": it.due.isoformat(),
                            "days_left": (it.due - day).days} for it in items]
        table = Table(columns=columns, rows=rows, path=f"output/step{ctx.step}_action_items.{fmt}", fmt=fmt,  # type: ignore[arg-type]
                      label="action items", key="ref", numeric=["days_left"], category="owner")
        kind = "transcript" if transcript else "notes"
        if ctx.v2:
            instruction = _action_wording(ctx, kind, src_path, topics[0].prefix, table.path, fmt, d)
        else:
            instruction = pick(rng, (
                f"Go through the meeting {kind} in `{src_path}` and pull out the action items: tasks an attendee "
                f"committed to, each with a due date and a tracker reference such as `{topics[0].prefix}-123`. Skip work "
                f"reported as already closed and ideas nobody took on.",
                f"Extract every action item from `{src_path}` (meeting {kind}). An action item is a task that a named "
                f"attendee agreed to do by a due date, with a tracker reference like `{topics[0].prefix}-123`; ignore "
                f"tickets mentioned as closed and suggestions nobody picked up.",
            )) + (
                f" Save them to `{table.path}` as {describe_format(fmt)} with exactly the columns `ref`, `owner` (the "
                f"person's full name as listed under Attendees), `topic` (the agenda section where the item was raised, "
                f"named as in the {kind}), `due` (YYYY-MM-DD"
                + ("; a date without a year is in the meeting's year" if d >= 3 else "")
                + ") and `days_left` (whole days from the meeting date to `due`), sorted by `due` and then `ref`."
                + (" If a deadline is moved later in the meeting, use the new date; the topic stays the section where the "
                   "item was first raised." if d >= 4 else ""))
        step = f"step{ctx.step}"
        checks = [ck.table_equal(f"{step}_action_items", table),
                  ck.table_equal(f"{step}_action_owners_due",
                                 Table(columns=["ref", "owner", "due"], rows=rows, path=table.path, fmt=table.fmt),
                                 ordered=False, exact_columns=False)]
        outputs = [OutputSpec(table.path, TABLE_MUTATIONS)]
        oracle = [write_call(table.path, serialize(table))]
        if d >= 2:
            md = f"output/step{ctx.step}_followups.md"
            md_lines = [f"# Follow-ups: {title}", ""]
            md_lines += [f"- [ ] {it.owner} - {it.task[0].upper() + it.task[1:]} - due {it.due.isoformat()} ({it.ref})"
                         for it in items]
            values = [it.due.isoformat() for it in items]
            if d >= 3:
                md_lines += ["", "## Decisions", ""] + [f"- {sentence}" for sentence, _ in decisions]
            oracle.append(write_call(md, "\n".join(md_lines) + "\n"))
            if ctx.v2:
                instruction += " " + _followup_wording(ctx, md, d >= 3)
            else:
                instruction += pick(rng, (
                    f" Then write `{md}`: a Markdown checklist with one line per action item in the same order, formatted "
                    f"`- [ ] <owner full name> - <short description of the task> - due <YYYY-MM-DD>`",
                    f" Also write a checklist I can post, `{md}`: a Markdown to-do list in the same order, each line "
                    f"`- [ ] <owner's full name> - <what they will do, in a few words> - due <YYYY-MM-DD>`",
                )) + (", followed by a `## Decisions` section with one bullet per decision taken in the meeting (names, "
                      "amounts and numbers exactly as stated)." if d >= 3 else ".")
            for i, it in enumerate(items):
                kw = "|".join(re.escape(k) for k in it.keywords)
                checks.append(ck.regex(f"{step}_followup_{i}", md, (r"^[-*+] \[ \] " if ctx.v2 else r"^- \[ \] ")
                                       + rf"(?=[^\n]*{re.escape(it.owner)})"
                                                                rf"(?=[^\n]*{re.escape(it.due.isoformat())})(?=[^\n]*(?:{kw}))",
                                       ci=True))
            if d >= 3:
                for i, (_, value) in enumerate(decisions):
                    checks.append(ck.ordered(f"{step}_decision_{i}", md, ["## Decisions", value]))
                values += [value for _, value in decisions]
            outputs.append(OutputSpec(md, ("missing", "value", "format"), checked_values=tuple(values)))
        return OpStep(op=self.name, instruction=instruction, oracle=oracle, checks=checks, outputs=outputs,
                      artifact=table, input_files={src_path: source.encode()})

    @staticmethod
    def _notes(title: str, date_text: str, attendees: list[str], scribe: str,
               sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
        out = [f"# {title} - {date_text}", "", f"Attendees: {', '.join(attendees)}", f"Notes taken by: {scribe}", ""]
        for topic, lines in sections:
            out += [f"## {topic}", ""]
            for who, text in lines:
                out.append(f"- {who}: {text}" if who else f"- {text}")
            out.append("")
        return "\n".join(out)

    @staticmethod
    def _transcript(rng: random.Random, title: str, date_text: str, attendees: list[str],
                    sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
        out = [f"Meeting: {title}", f"Date: {date_text}", f"Attendees: {', '.join(attendees)}", ""]
        minute = 10 * 60 + rng.randrange(0, 30)
        for topic, lines in sections:
            out += [f"--- Topic: {topic} ---"]
            for who, text in lines:
                out.append(f"[{minute // 60:02d}:{minute % 60:02d}] {who}: {text}")
                minute += rng.randrange(1, 4)
            out.append("")
        return "\n".join(out)
