"""builtin-v2's task text around the steps: who asks, why, how the steps are laid out, the closing.

builtin-v1 opened every task with one of four sentences, so 13,500 tasks had 100 distinct openings
and every frame sentence was shared by a quarter of the suite. Here each part is a grammar (see
:func:`clawgym_env.synth.phrasing.say`) with several shapes and independent choices, so openings and
frame sentences rarely repeat; the persona's stated preference is left out, since no check holds an
answer to it (issue 13: preferences are checked or not stated).
"""

from __future__ import annotations

import random
import re
from typing import Any

from clawgym_env.synth.phrasing import say

_VOWEL_SOUND = re.compile(r"^(?:[aeiou]|HR\b|hour|honest)", re.IGNORECASE)


def with_article(noun: str) -> str:
    """'an HR generalist', 'a QA engineer', 'an operations manager'."""
    return ("an " if _VOWEL_SOUND.match(noun) else "a ") + noun


def _bare(domain: str) -> str:
    """'a food bank' -> 'food bank' (for 'our food bank', 'the food bank')."""
    return re.sub(r"^(?:an?|the)\s+", "", domain)


_GREETING = "[Hi|Hello|Hey|Hi there|Hello there|Good morning|Morning|Good afternoon|Hey there]"


def _opening(rng: random.Random, who: Any) -> str:
    first = who.name.split()[0]
    values = {"name": who.name, "first": first, "a_role": with_article(who.role), "role": who.role,
              "domain": who.domain, "place": _bare(who.domain), "situation": who.situation.replace("their ", "my ")}
    shapes = (
        _GREETING + "[!|,|.] [I'm|This is|It's|My name is] {name}, {a_role} [at|with|working at|on the team at] {domain}.",
        _GREETING + "[!|,|.] {first} here, {a_role} at {domain}[| — I'm {situation}].",
        "{first} [here|writing|again], [from|over at] [the|our] {place}[| where I'm {a_role}| ({role})].",
        "I [work as|am] {a_role} at {domain}[| and I'm {situation}| and right now I'm {situation}].",
        "I'm {situation} [at|for] [the|our] {place} and [could use|need|would love] [a hand|some help|your help]"
        "[| with a few files| with the files here| with some file work].",
        "[Could|Can|Would] you [help me|give me a hand|lend me a hand|help out] [with|on] [something|a few things|"
        "some file work|a small job|a batch of files] [for|at] [the|our] {place}? [I'm|This is] {first}, {a_role} there.",
        "[A quick|A small|One more|A short|An urgent-ish] [favour|request|job|task|ask] [from|for] {first} "
        "({role} at {domain})[.|:| —] [I'm|We're] {situation}.",
        "[As|Since I'm|Being] {a_role} at {domain}, I [look after|handle|deal with|keep track of|own] [a lot of|most of"
        "|plenty of] [the|our] [files|records|paperwork|data], and [today|this week|right now] I'm {situation}.",
        "[So|OK|Right|Alright], [I'm|we're] {situation} [here|over here|] at [the|our] {place}"
        "[, and I need your help| and need a hand|, and here's what I need].",
        "{first} ({a_role} at {domain}) [here|writing]. [Today|This week|Right now|At the moment] I'm {situation}.",
    )
    return say(rng, rng.choice(shapes), **values)


def _context(rng: random.Random, scenario: Any) -> str:
    if rng.random() < 0.35:
        return ""
    return say(rng, "[This|It|The job|This one|All of this] [is|counts as|falls under|is part of|belongs to] "
                    "[our|my|the usual|the team's|a bit of] {sub} [work|duties|tasks|backlog|effort]"
                    "[|, so accuracy matters| and it feeds into other work| and people will rely on the results|"
                    ", and I'll check it before it goes out].", sub=scenario.subcategory)


def _lead(rng: random.Random, n: int) -> str:
    return say(rng, rng.choice((
        "[using|working from|with] [only |just |]the files [in|already in|you'll find in] [this|the] workspace, "
        "[please|could you|can you|I'd like you to] [do|handle|take care of|work through] [the following|these "
        "{n} steps|the steps below|what follows][:|.]",
        "[here is|here's|this is|below is] what I need[, step by step|, in order| in {n} steps|][:|.]",
        "[could|can|would] you [work through|go through|handle|take care of] [these|the following|the] "
        "[steps|items|{n} steps|bits][| in order| one after the other| for me]?",
        "[the|my] [plan|list|to-do list|request] [has|comes in] {n} [parts|steps|pieces][, in this order|, and the order "
        "matters| that build on each other|][:|.]",
        "[everything you need is|all the inputs are|the inputs are|what you need is] [already |]in the workspace"
        "[; please|, so please|, so just|. Please|. Just] [do|handle|work through] [the following|these {n} steps|"
        "this][:|.]",
    )), n=n)


_ORDINALS = ("[First,|To start,|First of all,|Start with this:|Step one:|To begin,]",
             "[Then|Next,|After that,|Second,|Once that's done,|Building on that,]",
             "[Then|Next,|After that,|Third,|On top of that,|With that in hand,]",
             "[Finally,|Last,|Lastly,|To finish,|As a last step,|And finally,]")


def _steps(rng: random.Random, instructions: list[str]) -> str:
    style = rng.randrange(4)
    if style < 3:
        label = ("{i}. ", "{i}) ", "Step {i}: ")[style]
        return "\n".join(label.format(i=i) + text for i, text in enumerate(instructions, 1))
    out = []
    for i, text in enumerate(instructions):
        slot = _ORDINALS[0 if i == 0 else (3 if i == len(instructions) - 1 else min(i, 2))]
        out.append(f"{say(rng, slot)} {_continue(text)}")
    return "\n\n".join(out)


def _continue(text: str) -> str:
    """``text`` after a connector ('Then, write ...'): its first letter lowered when that is only
    sentence case (not 'I', a name, an acronym or a path)."""
    word = text.split(" ", 1)[0]
    if len(word) > 1 and word[0].isupper() and word[1:].islower() and word.isalpha() and word not in ("I",):
        return text[0].lower() + text[1:]
    return text


_OUTPUTS = ("[create|write|put|save] [each|every|the] output[| file] [exactly |precisely |]"
            "[at the path|under the path|in the place] [given|named|stated|I gave] [above|in its step|for it]")
_INPUTS = ("[leave|keep] the [input|original|source] files [as they are|unchanged|untouched|exactly as you found "
           "them]")
_INPUTS_ALONE = "[please don't|don't|do not|try not to] [modify|change|edit|touch] the [input|original|source] files"
_RELATIVE = ("[all file paths are|all paths are|every path is|each file path is|every file path is|the paths are] "
             "[relative to|inside|taken from|counted from] the workspace[| directory| folder| root]")


def _closing(rng: random.Random) -> str:
    """Outputs where named, inputs untouched, paths relative to the workspace: in varied order and shape."""
    shapes = (
        f"{_OUTPUTS}, and {_INPUTS}. [Note that |Keep in mind that |Remember that |]{_RELATIVE}.",
        f"{_OUTPUTS}; {_INPUTS}, and note that {_RELATIVE}.",
        f"{_INPUTS_ALONE}[| please], and {_OUTPUTS}. [Note that |Keep in mind that |Remember that |]{_RELATIVE}.",
        f"[note that |keep in mind that |]{_RELATIVE}, so {_OUTPUTS} and {_INPUTS}.",
        f"{_INPUTS_ALONE}. [Also, |And |Please |]{_OUTPUTS}[| please][| ({_RELATIVE})].",
    )
    return say(rng, rng.choice(shapes))


def instruction_v2(rng: random.Random, who: Any, scenario: Any, steps: list[Any]) -> str:
    """The whole builtin-v2 instruction: opening, optional context, lead, the steps, closing."""
    head = " ".join(part for part in (_opening(rng, who), _context(rng, scenario)) if part)
    body = _steps(rng, [s.instruction for s in steps])
    return f"{head}\n\n{_lead(rng, len(steps))}\n{body}\n\n{_closing(rng)}"


__all__ = ["instruction_v2", "with_article"]
