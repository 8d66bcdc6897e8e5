"""System and environment operations: inventory a folder tree, sort loose files into folders, bundle
outputs into an archive, and apply a change request to a configuration file."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from clawgym_env.synth import checks as ck
from clawgym_env.synth.artifacts import Row, Table, Text, describe_format, serialize
from clawgym_env.synth.datagen import COMPANIES
from clawgym_env.synth.ops import decoys
from clawgym_env.synth.ops.base import TABLE_MUTATIONS, OpContext, OpStep, OutputSpec, exec_call, write_call
from clawgym_env.synth.ops.data_ops import pick_fmt, table_checks
from clawgym_env.synth.phrasing import join_list, pick
from clawgym_env.synth.vocab import Vocab


def _day(rng: Any) -> str:
    return (date(2026, 1, 1) + timedelta(days=rng.randrange(0, 300))).isoformat()


_SENTENCES = (
    "Budget figures were checked against the finance export.", "Next review is planned for the first week of the month.",
    "Two vendors still owe us updated quotes.", "The team agreed to move the deadline by one week.",
    "Open questions are listed at the end of this note.", "Numbers below are rounded to the nearest unit.",
    "Please flag anything that looks out of date.", "The draft needs one more pass before it goes out.",
    "Action: confirm room booking with facilities.", "Risk: the supplier may not deliver before the cut-off.",
    "Owner for follow-up is the operations lead.", "Approved at the last steering meeting.",
    "This replaces the version shared in the previous quarter.", "Attendance was lower than expected this time.",
    "Estimates assume the current headcount.", "See the shared calendar for the updated schedule.",
    "Receipts are attached for every line above.", "Questions go to the project mailbox.",
)


def _prose(rng: Any, lines: int, notes: tuple[str, ...] = _SENTENCES) -> str:
    return "\n".join(rng.choice(notes) for _ in range(lines))


def _file_body(rng: Any, name: str, kind: str, notes: tuple[str, ...] = _SENTENCES) -> str:
    """Plausible text for a file of this kind (binary formats are text stand-ins), varied in length;
    prose lines come from ``notes`` (builtin-v2 passes the workplace's, see :mod:`..vocab`)."""
    if kind == "md":
        return f"# {name.rsplit('.', 1)[0].replace('_', ' ').title()}\n\n{_prose(rng, rng.randint(2, 14), notes)}\n"
    if kind == "txt":
        return _prose(rng, rng.randint(1, 10), notes) + "\n"
    if kind == "csv":
        rows = [f"{_day(rng)},{rng.choice(COMPANIES).replace(' & ', ' and ')},{rng.uniform(10, 900):.2f}"
                for _ in range(rng.randint(3, 40))]
        return "date,account,amount\n" + "\n".join(rows) + "\n"
    if kind == "json":
        items = [f'  {{"id": {i + 1}, "value": {rng.randint(0, 999) / 10}, "ok": {"true" if rng.random() < 0.8 else "false"}}}'
                 for i in range(rng.randint(2, 25))]
        return "[\n" + ",\n".join(items) + "\n]\n"
    if kind == "jsonl":
        return "".join(f'{{"metric": "{rng.choice(("latency", "errors", "visits"))}", "value": {rng.randint(0, 900)}}}\n'
                       for _ in range(rng.randint(3, 30)))
    if kind == "svg":
        shapes = "".join(f'  <rect x="{rng.randint(0, 400)}" y="{rng.randint(0, 300)}" width="{rng.randint(10, 90)}" '
                         f'height="{rng.randint(10, 90)}" fill="#{rng.getrandbits(24):06x}"/>\n'
                         for _ in range(rng.randint(2, 12)))
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="480" height="360">\n{shapes}</svg>\n'
    if kind == "sh":
        return "#!/bin/sh\nset -e\n" + "".join(f"rsync -a /srv/share/{rng.choice(('reports', 'data', 'docs'))}/ "
                                               f"/mnt/backup/{i}/\n" for i in range(rng.randint(1, 6)))
    if kind == "py":
        return ('"""Remove temporary files older than a week."""\nimport os\nimport time\n\nLIMIT = 7 * 24 * 3600\n'
                + "".join(f"# pass {i}: check folder {rng.choice(('tmp', 'cache', 'exports'))}\n"
                          for i in range(rng.randint(1, 8))))
    if kind == "ini":
        return "[sync]\n" + "".join(f"{k} = {rng.randint(1, 99)}\n" for k in rng.sample(
            ("interval", "retries", "timeout", "threads", "batch", "keep"), rng.randint(2, 6)))
    # stand-in for a binary file (photo, PDF, office document, archive): a labelled hex dump
    dump = "".join(f"{i * 16:08x}  {h[:4]} {h[4:8]} {h[8:12]} {h[12:16]} {h[16:20]} {h[20:24]} {h[24:28]} {h[28:]}\n"
                   for i, h in enumerate(f"{rng.getrandbits(128):032x}" for _ in range(rng.randint(1, 30))))
    return f"[text stand-in for the binary file {name}]\n{dump}"


def _extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[1].lower() if "." in base.lstrip(".") else ""


# ---------------------------------------------------------------- inspect_directory


class InspectDirectory:
    """Inventory a shared folder tree into a sorted table plus a per-extension summary."""

    name = "inspect_directory"
    category = "system_env"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        root = rng.choice(("shared", "team_drive", "project_share"))
        topic = rng.choice(("sales", "ops", "grants", "hiring", "support"))
        cands = [
            ("", "README.md", "md"), ("", "LICENSE", "txt"), ("reports", f"{topic}_report_{_day(rng)}.md", "md"),
            ("reports", f"summary_q{rng.randint(1, 4)}.pdf", "bin"),
            ("reports/drafts", f"board_update_v{rng.randint(2, 5)}.docx", "bin"),
            ("data/raw", f"export_{_day(rng)}.csv", "csv"), ("data/raw", "sensor_readings.json", "json"),
            ("data/processed", f"clean_{topic}.csv", "csv"), ("data/processed", "metrics.jsonl", "jsonl"),
            ("images", f"IMG_{rng.randint(1000, 9999)}.JPG", "bin"), ("images", "logo.png", "bin"),
            ("images", "floorplan.svg", "svg"), ("docs/meetings", f"{_day(rng)}_standup.md", "md"),
            ("docs/meetings", f"{_day(rng)}_retro.txt", "txt"), ("docs", "onboarding_guide.md", "md"),
            ("archive/2025", f"backup_{_day(rng)}.tar.gz", "bin"), ("archive/2025", "old_budget.xlsx", "bin"),
            ("scripts", "sync_files.sh", "sh"), ("scripts", "cleanup.py", "py"), ("config", "settings.ini", "ini"),
        ]
        k = min(len(cands), 6 + 2 * ctx.difficulty + rng.randrange(3))
        chosen = [cands[0]] + rng.sample(cands[1:], k - 1)
        hidden = []
        if ctx.difficulty >= 3:
            hidden = rng.sample([(".cache", "thumbs.db", "bin"), ("", ".DS_Store", "bin"),
                                 ("data/raw", ".~lock.export.csv#", "txt"), (".git", "HEAD", "txt")], 2)
        files: dict[str, str] = {}
        for folder, name, kind in chosen + hidden:
            path = "/".join(p for p in (root, folder, name) if p)
            files[path] = _file_body(rng, name, kind)
        visible = sorted(p for p in files if not any(part.startswith(".") for part in p.split("/")))
        with_folder = ctx.difficulty >= 2
        with_date = ctx.difficulty >= 4
        rows: list[Row] = []
        for p in visible:
            row: Row = {"path": p}
            if with_folder:
                row["folder"] = p.rsplit("/", 1)[0]
            row["extension"] = _extension(p)
            row["size_bytes"] = len(files[p].encode())
            if with_date:
                m = re.search(r"\d{4}-\d{2}-\d{2}", p.rsplit("/", 1)[1])
                row["date"] = m.group(0) if m else ""
            rows.append(row)
        order = rng.choice(("size", "path", "ext"))
        if order == "size":
            rows.sort(key=lambda r: (-int(r["size_bytes"]), str(r["path"])))  # type: ignore[arg-type]
            order_text = "largest first (`size_bytes` descending, ties by `path` ascending)"
        elif order == "path":
            order_text = "by `path` ascending"
        else:
            rows.sort(key=lambda r: (str(r["extension"]), -int(r["size_bytes"]), str(r["path"])))  # type: ignore[arg-type]
            order_text = "by `extension` ascending, then `size_bytes` descending, then `path` ascending"
        order_text += " (text compared in plain byte order, so uppercase sorts before lowercase)"
        columns = list(rows[0].keys())
        fmt = pick_fmt(rng)
        inv = Table(columns=columns, rows=rows, path=f"output/step{ctx.step}_inventory.{fmt}", fmt=fmt, label="files",
                    key="path", numeric=["size_bytes"], category="extension")
        by_ext: dict[str, dict[str, int]] = {}
        for r in rows:
            e = str(r["extension"]) or "(none)"
            slot = by_ext.setdefault(e, {"files": 0, "bytes": 0})
            slot["files"] += 1
            slot["bytes"] += int(r["size_bytes"])  # type: ignore[arg-type]
        largest = min(rows, key=lambda r: (-int(r["size_bytes"]), str(r["path"])))  # type: ignore[arg-type]
        total = sum(slot["bytes"] for slot in by_ext.values())
        summary = {"root": root, "total_files": len(rows), "total_bytes": total,
                   "by_extension": dict(sorted(by_ext.items())), "largest_file": largest["path"]}
        summary_path = f"output/step{ctx.step}_inventory_summary.json"
        col_notes = ["`path` (relative to the workspace, starting with `" + root + "/`)"]
        if with_folder:
            col_notes.append("`folder` (the directory part of `path`)")
        col_notes.append("`extension` (the text after the last dot of the file name, lower-cased, without the dot; "
                         "empty when there is none)")
        col_notes.append("`size_bytes` (exact size in bytes)")
        if with_date:
            col_notes.append("`date` (a YYYY-MM-DD date that appears in the file name, else empty)")
        skip = (" Skip hidden files and anything inside hidden folders (names starting with a dot)." if hidden else "")
        cols_text = join_list(col_notes)
        inputs = {p: c.encode() for p, c in files.items()}
        described = decoys.wanted(ctx)
        if described:  # the live folder is described, beside a dated snapshot of it that lacks a file
            side = decoys.side_rng(ctx, self.name)
            gone = side.choice(visible)
            named = [m.group(0) for p in visible if p != gone for m in [re.search(r"\d{4}-\d{2}-\d{2}", p)] if m]
            taken = date.fromisoformat(max(named, default="2026-03-01")) + timedelta(days=side.randint(1, 20))
            snap = f"{root}_snapshot_{taken.isoformat()}"  # taken after the newest file it holds
            inputs.update({snap + p.removeprefix(root): c.encode() for p, c in files.items() if p != gone})
        instruction = _inventory_words(ctx, root, bool(hidden), inv, summary_path, order, with_folder,
                                       with_date, described) if ctx.v2 else pick(rng, (
            f"Take an inventory of every file under `{root}/` (all subfolders, regular files only).{skip} Save it to "
            f"`{inv.path}` as {describe_format(fmt)} with the columns {cols_text}, sorted {order_text}. Also write "
            f"`{summary_path}`: a JSON object with `root` (`\"{root}\"`), `total_files`, `total_bytes`, `by_extension` "
            f"(extension -> `{{\"files\": n, \"bytes\": b}}`, using `(none)` for files without one) and `largest_file` "
            f"(its path; ties go to the path that sorts first).",
            f"I need to know what is in `{root}/`. List each file in it and its subfolders (recursively).{skip} Write "
            f"the list to `{inv.path}` ({describe_format(fmt)}) with columns {cols_text}; order the rows {order_text}. "
            f"Then summarise it in `{summary_path}` as JSON with keys `root` (`\"{root}\"`), `total_files`, "
            f"`total_bytes`, `by_extension` (each extension mapped to `{{\"files\": count, \"bytes\": total}}`, `(none)` "
            f"for no extension) and `largest_file` (path of the biggest file; on a tie, the first path in sort order).",
        ))
        checks = table_checks(ctx.step, "inventory", inv)
        checks += [ck.json_equal(f"step{ctx.step}_summary_{k}", summary_path, summary[k], key_path=[k], tol=0)
                   for k in ("total_files", "total_bytes", "by_extension", "largest_file")]
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(inv.path, serialize(inv)),
                    write_call(summary_path, json.dumps(summary, indent=2) + "\n")],
            checks=checks,
            outputs=[OutputSpec(inv.path, TABLE_MUTATIONS),
                     OutputSpec(summary_path, ("missing", "value", "format"))],
            artifact=inv,
            input_files=inputs,
        )



def _inventory_words(ctx: OpContext, root: str, hidden: bool, inv: Table, summary_path: str, order: str,
                     with_folder: bool, with_date: bool, described: bool = False) -> str:
    """builtin-v2's wording of inspect_directory: every sentence a grammar, the same facts stated.
    ``described``: the folder is told apart from a dated snapshot copy of it, not named."""
    say, part = ctx.say, ctx.clause
    r, root_val, start = f"`{root}/`", f'`"{root}"`', f"`{root}/`"
    if described:
        drive = {"shared": "shared drive", "team_drive": "team drive", "project_share": "project share"}[root]
        r = part("the [live|current] {drive} folder [in the workspace|at the top of the workspace]", drive=drive)
        root_val = part("[the folder's name|that folder's name|its name]")
        start = part("[that folder's name|the folder's name|the {drive} folder's name] followed by a slash",
                     drive=drive)
    cols = [part("{c} ([relative to the workspace, starting with|the workspace-relative path, beginning with] {r})",
                 c="`path`", r=start)]
    if with_folder:
        cols.append(part("{c} ([the directory part of|the folder part of|the folder holding the file, i.e. the "
                         "directory part of] {p})", c="`folder`", p="`path`"))
    cols.append(part("{c} ([the text after the last dot of the file name|whatever follows the file name's last "
                     "dot], [lower-cased|in lower case], without the dot[; empty when there is none| -- empty if the "
                     "name has no dot|, or empty for a name with no dot])", c="`extension`"))
    cols.append(part("{c} ([the exact size in bytes|the file's exact byte count|exact size, in bytes])",
                     c="`size_bytes`"))
    if with_date:
        cols.append(part("{c} ([a|the] YYYY-MM-DD date [that appears in|found in|written in] the file name, [else|"
                         "otherwise] empty)", c="`date`"))
    plain = part("[(text compared in plain byte order, so uppercase sorts before lowercase)|(comparing text byte by "
                 "byte: uppercase comes before lowercase)|(plain byte order for text, which puts uppercase "
                 "first)]")
    if order == "size":
        how = part("[largest first ({s} descending, ties by {p} ascending)|from the biggest file to the smallest, "
                   "[ties broken|breaking ties] by {p} ascending|by {s} descending and then {p} ascending]",
                   s="`size_bytes`", p="`path`")
    elif order == "path":
        how = part("[by {p} ascending|alphabetically by {p}|in ascending {p} order]", p="`path`")
    else:
        how = part("[by {e} ascending, then {s} descending, then {p} ascending|by {e} ascending and, within each "
                   "extension, largest first ({s} descending), ties by {p} ascending]",
                   e="`extension`", s="`size_bytes`", p="`path`")
    fmt = _fmt_words(part, inv.fmt)
    parts = [say("[[Take an inventory of|List|Catalogue|Make a list of] [every|each] file under {r}"
                 "[, subfolders included| (all subfolders, recursively)| and all of its subfolders][; regular "
                 "files only, not folders|, counting regular files only|].|I [need to|want to|would like to] know [what is in|"
                 "what sits in|exactly what is stored in] {r}: [list|go through and list] [every|each] file in it "
                 "and [in |]its subfolders[, recursively|].]", r=r)]
    if described:
        parts.append(say("[A dated snapshot [copy |]of it sits [beside it|next to it|in the workspace too]|There is "
                         "also a dated snapshot of it [next to it|beside it|at the same level][, which is out of date|]|"
                         "Its dated snapshot [copy |][next to it|beside it] is [stale|out of date|an old backup]|"
                         "Someone [left|kept] an older, dated snapshot of it [next to it|beside it|in the workspace]]"
                         "[;|:| --] [leave that alone|ignore that copy|ignore it|do not list it|leave it out|it is not "
                         "part of the inventory|none of its files belong in the list]."))
    if hidden:
        parts.append(say("[Skip|Leave out|Ignore|Do not list] hidden files and [anything|everything|whatever "
                         "sits] [inside|under|in] hidden folders ([names|files and folders whose names are] "
                         "[starting|beginning] with a dot)[| -- they are not part of the share| since nobody uses "
                         "them| -- they are system clutter]."))
    parts.append(say("[[Save it to|Write it to|Put the list in|Store the inventory in] {inv} ({fmt}) with the columns "
                     "{cols}, [sorted|ordered|rows sorted] {how} {plain}.|The inventory [goes to|belongs in|should be "
                     "saved to] {inv} as {fmt}: [one row per file|a row for each file], [with |]columns {cols}; "
                     "[order the rows|sort the rows|the rows go] {how} {plain}.]",
                     inv=f"`{inv.path}`", fmt=fmt, cols=join_list(cols), how=how, plain=plain))
    ext_map = part("[extension -> {shape}|each extension mapped to {shape}|an object from extension to {shape}], "
                   "[using|with] {none} for files without one", shape='`{"files": n, "bytes": b}`', none="`(none)`")
    largest = part("[its path; ties go to the path that sorts first|the path of the biggest file; on a tie, the "
                   "first path in sort order|path of the largest file, the earliest path in sort order winning a "
                   "tie]")
    parts.append(say("[[Also|Then|In addition], [write|save|create] {sp}: a JSON object with|[Summarise|Sum up] "
                     "[it|the inventory|the listing] in {sp} as [JSON|a JSON object] [with the keys|holding|with]] "
                     "{root_key} ({root_val}), {tf}, {tb}, {be} ({ext_map}) and {lf} ({largest}).",
                     sp=f"`{summary_path}`", root_key="`root`", root_val=root_val, tf="`total_files`",
                     tb="`total_bytes`", be="`by_extension`", ext_map=ext_map, lf="`largest_file`", largest=largest))
    return " ".join(parts)


def _fmt_words(part: Callable[..., str], fmt: str) -> str:
    """An output table's format, said one of several ways (what describe_format says, reworded)."""
    return part({"csv": "[a CSV file with a header row|CSV with a header row|a comma-separated file with a header "
                        "line]",
                 "json": "[a JSON array of objects|an array of JSON objects, one per row|a JSON list of row "
                         "objects]",
                 "jsonl": "[JSON Lines (one object per line)|JSONL, one object per line]",
                 "tsv": "[a tab-separated file with a header row|TSV with a header row]",
                 "md": "[a Markdown table|a GFM table]"}[fmt])

# ---------------------------------------------------------------- organize_files

_EXT_GROUPS = {"documents": ("pdf", "docx", "md", "txt"), "spreadsheets": ("csv", "xlsx"),
               "images": ("jpg", "png", "heic")}
_LOOSE_NAMES = {
    "pdf": ("signed_contract", "scan_{n}", "travel_insurance", "lease_renewal"),
    "docx": ("cover_letter", "meeting_agenda", "grant_proposal_v{n}", "policy_update"),
    "md": ("todo", "ideas_{n}", "handover_notes", "reading_list"),
    "txt": ("phone_numbers", "wifi_passwords_old", "notes_{n}", "packing_list"),
    "csv": ("expenses_{n}", "contacts_export", "mileage_log", "attendance"),
    "xlsx": ("budget_{n}", "shift_rota", "price_comparison", "inventory_count"),
    "jpg": ("IMG_{n}", "whiteboard_photo", "receipt_photo_{n}", "team_offsite"),
    "png": ("screenshot_{n}", "logo_draft", "chart_export", "floor_plan"),
    "heic": ("IMG_{n}", "site_visit_{n}", "damaged_parcel", "office_plant"),
    "tmp": ("~autosave_{n}", "download_{n}"), "ics": ("invite_{n}", "calendar_export"),
    "log": ("install", "sync_{n}"),
}
_KINDS = ("receipt", "invoice", "meeting_notes", "quote", "timesheet", "statement")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class OrganizeFiles:
    """Move loose files from an inbox into folders by a stated rule and write a manifest of the moves."""

    name = "organize_files"
    category = "system_env"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        notes = ctx.vocab().notes if ctx.v2 else _SENTENCES
        rule = rng.choice(("extension", "date", "client"))
        n = 5 + 2 * ctx.difficulty + rng.randrange(2)
        n_stay = (ctx.difficulty >= 3) + (ctx.difficulty >= 5)
        inbox = rng.choice(("inbox", "downloads", "unsorted"))
        files: dict[str, str] = {}
        dest: dict[str, str] = {}  # name -> folder (relative to the destination root)
        if rule == "extension":
            root = "sorted"
            exts = [e for g in _EXT_GROUPS.values() for e in g]
            for i in range(n + n_stay):
                stay = i >= n
                ext = rng.choice(("tmp", "ics", "log")) if stay else rng.choice(exts)
                stem = rng.choice(_LOOSE_NAMES[ext]).format(n=rng.randint(10, 9999))
                shown = ext.upper() if stem.startswith("IMG_") else ext
                name = f"{stem}.{shown}"
                if name in files:
                    continue
                files[name] = _file_body(rng, name, ext if ext in ("md", "txt", "csv") else "bin", notes)
                if not stay:
                    dest[name] = next(g for g, es in _EXT_GROUPS.items() if ext in es)
            groups = "; ".join(f"`{g}/`: {', '.join('.' + e for e in es)}" for g, es in _EXT_GROUPS.items())
            rule_text = (f"by file type into `{root}/<group>/`, with these groups — {groups} (match extensions "
                         f"case-insensitively)" + ("; files of any other type stay where they are" if n_stay else ""))
            folder_note = "the group name"
        elif rule == "date":
            root = "archive"
            for i in range(n + n_stay):
                stay = i >= n
                kind = rng.choice(_KINDS)
                ext = rng.choice(("pdf", "txt", "md", "csv"))
                who = _slug(rng.choice(COMPANIES))
                if stay:
                    name = f"{kind}_{who}_draft.{ext}"
                else:
                    d = _day(rng)
                    name = rng.choice((f"{kind}_{d}_{who}.{ext}", f"{d}_{kind}.{ext}", f"{who}_{kind}_{d}.{ext}"))
                if name in files:
                    continue
                files[name] = _file_body(rng, name, ext if ext in ("md", "txt", "csv") else "bin", notes)
                if not stay:
                    dest[name] = re.search(r"\d{4}-\d{2}", name).group(0)  # type: ignore[union-attr]
            rule_text = (f"by the date in the file name (YYYY-MM-DD) into `{root}/<YYYY-MM>/`, the year and month of "
                         f"that date" + ("; files without a date in their name stay where they are" if n_stay else ""))
            folder_note = "the `YYYY-MM` folder name"
        else:
            root = "clients"
            clients = rng.sample([c for c in COMPANIES if "&" not in c], 3 + (ctx.difficulty >= 4))
            for i in range(n + n_stay):
                stay = i >= n
                kind = rng.choice(_KINDS)
                ext = rng.choice(("txt", "md"))
                name = f"{kind}_{rng.randint(100, 999)}.{ext}"
                if name in files:
                    continue
                client = rng.choice(clients)
                head = (f"Internal memo — not for a client\nDate: {_day(rng)}\n" if stay else
                        f"Client: {client}\nDate: {_day(rng)}\nReference: {kind.upper()[:3]}-{rng.randint(1000, 9999)}\n")
                files[name] = head + "\n" + _prose(rng, rng.randint(1, 6), notes) + "\n"
                if not stay:
                    dest[name] = _slug(client)
            rule_text = (f"by client into `{root}/<client-folder>/`: each file names its client on a `Client:` line, "
                         f"and the folder is that name in lower case with spaces replaced by hyphens (e.g. `Northwind "
                         f"Traders` -> `northwind-traders`)" +
                         ("; files without a `Client:` line stay where they are" if n_stay else ""))
            folder_note = "the client folder name"
        rows: list[Row] = []
        moves: list[tuple[str, str]] = []
        for name in sorted(dest):
            src, dst = f"{inbox}/{name}", f"{root}/{dest[name]}/{name}"
            moves.append((src, dst))
            rows.append({"file": name, "from_path": src, "to_path": dst, "folder": dest[name],
                         "size_bytes": len(files[name].encode())})
        fmt = pick_fmt(rng)
        manifest = Table(columns=["file", "from_path", "to_path", "folder", "size_bytes"], rows=rows,
                         path=f"output/step{ctx.step}_moves.{fmt}", fmt=fmt, label="moved files", key="file",
                         numeric=["size_bytes"], category="folder")
        folders = sorted({dst.rsplit("/", 1)[0] for _, dst in moves})
        command = "mkdir -p " + " ".join(f"'{f}'" for f in folders) + " && " + " && ".join(
            f"mv '{s}' '{d}'" for s, d in moves)
        instruction = _organize_words(ctx, inbox, rule, root, bool(n_stay), manifest) if ctx.v2 else pick(rng, (
            f"The `{inbox}/` folder is a mess. Move (do not copy) its files {rule_text}. Keep the file names "
            f"unchanged. Then write a manifest of the moves to `{manifest.path}` as {describe_format(fmt)} with the "
            f"columns `file`, `from_path`, `to_path`, `folder` ({folder_note}) and `size_bytes`, one row per moved "
            f"file, sorted by `file` in plain byte order (uppercase before lowercase); paths are relative to the "
            f"workspace.",
            f"Tidy up `{inbox}/`: move each file {rule_text}, keeping its name (a move, so it must no longer be in "
            f"`{inbox}/`). Record every move in `{manifest.path}` ({describe_format(fmt)}; columns `file`, "
            f"`from_path`, `to_path`, `folder` = {folder_note}, `size_bytes`), rows ordered by `file` "
            f"(plain byte order, uppercase first), paths relative to the workspace.",
        ))
        checks = [ck.moved(f"step{ctx.step}_moved_{i}", s, d, files[s.split("/", 1)[1]])
                  for i, (s, d) in enumerate(moves)]
        checks += table_checks(ctx.step, "manifest", manifest)
        # a few moved files are enough to prove the move checks (each mutation costs the gate a verifier run)
        outputs = [OutputSpec(d, ("missing", "value")) for _, d in moves[:: max(1, len(moves) // 3)][:3]]
        outputs.append(OutputSpec(manifest.path, TABLE_MUTATIONS))
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[exec_call(command), write_call(manifest.path, serialize(manifest))],
            checks=checks, outputs=outputs, artifact=manifest,
            input_files={f"{inbox}/{name}": body.encode() for name, body in files.items()},
        )



def _organize_words(ctx: OpContext, inbox: str, rule: str, root: str, some_stay: bool, manifest: Table) -> str:
    """builtin-v2's wording of organize_files: the same rule and manifest, every sentence a grammar."""
    say, part = ctx.say, ctx.clause
    box = f"`{inbox}/`"
    if rule == "extension":
        groups = "; ".join(f"`{g}/`: {', '.join('.' + e for e in es)}" for g, es in _EXT_GROUPS.items())
        how = part("[by file type into|by type into|according to their extension into] {dest}, [with these groups|"
                   "using these groups|grouped like this] -- {groups} ([match extensions case-insensitively|"
                   "extensions match in any case|the case of the extension does not matter])",
                   dest=f"`{root}/<group>/`", groups=groups)
        stay = part("[files of any other type stay where they are|anything with another extension stays put|"
                    "other file types are left in place]")
        note = part("[the group name|the name of the group|which group it went to]")
    elif rule == "date":
        how = part("[by the date in the file name|according to the date in each file's name|by the date its name "
                   "carries] (YYYY-MM-DD) into {dest}, [the year and month of that date|named after that date's "
                   "year and month|one folder per year and month]", dest=f"`{root}/<YYYY-MM>/`")
        stay = part("[files without a date in their name stay where they are|a file whose name has no date stays "
                    "put|undated files are left in place]")
        note = part("[the {f} folder name|the {f} folder|the name of the {f} folder]", f="`YYYY-MM`")
    else:
        how = part("[by client into|into one folder per client under|client by client into] {dest}: each file "
                   "[names its client on|says who the client is on|identifies its client with] a {cl} line, and the "
                   "folder is [that name in lower case with spaces replaced by hyphens|the client name lower-cased, "
                   "spaces turned into hyphens|the client's name in lower case, hyphens for spaces] ({ex})",
                   dest=f"`{root}/<client-folder>/`", cl="`Client:`",
                   ex="`Northwind Traders` -> `northwind-traders`")
        stay = part("[files without a {cl} line stay where they are|a file with no {cl} line stays put|files that "
                    "name no client are left in place]", cl="`Client:`")
        note = part("[the client folder name|the client's folder|the name of the client folder]")
    rule_text = how + (f"; {stay}" if some_stay else "")
    parts = [say("[[The|My|Our] {box} folder [is|has become|got] [a mess|out of hand|cluttered|a jumble|chaotic]"
                 "[| again| at the moment| lately][| and nobody can find anything| -- nothing is where it should "
                 "be|].|{Box} [has become|has turned into|is] a [dumping ground|mess|pile of loose files|heap of "
                 "unsorted files][| over the past weeks| lately| again][| and it needs sorting| and needs some order|]."
                 "|[Time to|Let us|Please help me|I would like to] [tidy up|sort out|clean up|put order into] {box}"
                 "[| before the audit| so people can find things| once and for all| this week].]",
                 box=box, Box=box)]
    parts.append(say("[Move|Relocate|Put] [its files|the files in it|everything in it|the loose files] {rule} -- "
                     "[a move, not a copy|move them, do not copy|moved, not copied|no copies left behind][, and "
                     "keep|, keeping|; keep] [each|every] file name [unchanged|as it is|exactly as it is].",
                     rule=rule_text))
    cols = "`file`, `from_path`, `to_path`, `folder`"
    parts.append(say(
        "[[Then|Afterwards|Once that is done], [write|record|log] [a manifest of the moves|every move|each move] "
        "[to|in] {path} ({fmt}) with the columns {cols} ({note}) and {size}, one row per moved file, [sorted|"
        "ordered] by {file} in plain byte order (uppercase before lowercase)[; paths are|, with paths] relative "
        "to the workspace."
        "|[Record|Log|List] [every|each] move in {path} ({fmt}; columns {cols} = {note}, {size}), [rows|one row "
        "per moved file,] [ordered|sorted] by {file} ([plain byte order, uppercase first|compared byte by byte, "
        "so uppercase sorts first]), [paths relative to the workspace|with workspace-relative paths].]",
        path=f"`{manifest.path}`", fmt=_fmt_words(part, manifest.fmt), cols=cols, note=note,
        size="`size_bytes`", file="`file`"))
    return " ".join(parts)

# ---------------------------------------------------------------- archive_files


def _bundle_plan(ctx: OpContext) -> tuple[Table | Text, str, str, str]:
    """What archive_files packs (the previous step's output), the archive kind, its path and the
    members' folder prefix (from difficulty 4), drawn in builtin-v1's order."""
    src = ctx.upstream
    if not isinstance(src, (Table, Text)):
        raise TypeError("archive_files needs the previous step's output file")
    kind = ctx.rng.choice(("tar.gz", "zip"))
    archive = f"output/step{ctx.step}_bundle.{kind}"
    prefix = ctx.rng.choice(("handover", "delivery", f"bundle_step{ctx.step}")) + "/" if ctx.difficulty >= 4 else ""
    return src, kind, archive, prefix


def _pack(step: int, man_fmt: str, archive: str, kind: str, sources: dict[str, str], oracle: list[dict[str, Any]],
          checks: list[dict[str, Any]], outputs: list[OutputSpec]) -> tuple[str, str]:
    """The archive of ``sources`` (member -> workspace file) and its manifest: the oracle's calls,
    the checks and the outputs appended in place; returns the manifest's path and format."""
    members = sorted(sources)
    manifest = f"output/step{step}_bundle_manifest.{man_fmt}"
    oracle += _bundle_calls(step, archive, kind, [(m, sources[m]) for m in members], manifest, man_fmt)
    checks += [ck.archive_members(f"step{step}_archive_members", archive, members),
               ck.archive_contents(f"step{step}_archive_contents", archive, sources),
               ck.archive_manifest(f"step{step}_archive_manifest", manifest, man_fmt, archive, members)]
    outputs += [OutputSpec(archive, ("missing",)), OutputSpec(manifest, ("missing", "value", "format"))]
    return manifest, man_fmt


def _bundle_calls(step: int, archive: str, kind: str, pairs: list[tuple[str, str]], manifest: str,
                  man_fmt: str) -> list[dict[str, Any]]:
    """The oracle's calls: a script that packs ``pairs`` (member name, workspace path) into the
    archive and writes the size/SHA-256 manifest, then its run."""
    script_path = f"output/step{step}_make_bundle.py"
    writer = ("    w = csv.writer(fh, lineterminator='\\n')\n    w.writerow(['member', 'size_bytes', 'sha256'])\n"
              "    for r in rows:\n        w.writerow([r['member'], r['size_bytes'], r['sha256']])\n"
              if man_fmt == "csv" else "    json.dump(rows, fh, indent=2)\n    fh.write('\\n')\n")
    create = ("with zipfile.ZipFile(ARCHIVE, 'w', zipfile.ZIP_DEFLATED) as z:\n"
              "    for name, path in MEMBERS:\n        z.write(path, name)\n" if kind == "zip" else
              "with tarfile.open(ARCHIVE, 'w:gz') as t:\n"
              "    for name, path in MEMBERS:\n        t.add(path, arcname=name)\n")
    script = ("import csv\nimport hashlib\nimport json\nimport tarfile\nimport zipfile\n\n"
              f"ARCHIVE = {archive!r}\nMEMBERS = {pairs!r}\n\n{create}\nrows = []\nfor name, path in MEMBERS:\n"
              "    with open(path, 'rb') as fh:\n        data = fh.read()\n"
              "    rows.append({'member': name, 'size_bytes': len(data), 'sha256': hashlib.sha256(data).hexdigest()})\n"
              f"with open({manifest!r}, 'w') as fh:\n{writer}")
    return [write_call(script_path, script), exec_call(f"python3 {script_path}")]


class ArchiveFiles:
    """Bundle the previous step's output (and a short README) into an archive with a checksum manifest."""

    name = "archive_files"
    category = "system_env"
    consumes = ("table", "text")
    starts = False
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        if ctx.v2:
            return self._build_v2(ctx)
        rng = ctx.rng
        src, kind, archive, prefix = _bundle_plan(ctx)
        sources: dict[str, str] = {prefix + src.path.rsplit("/", 1)[-1]: src.path}
        oracle: list[dict[str, Any]] = []
        checks: list[dict[str, Any]] = []
        readme_note = ""
        outputs: list[OutputSpec] = []
        if ctx.difficulty >= 2:
            readme = f"output/step{ctx.step}_README.txt"
            lines = [f"Bundle: {archive.rsplit('/', 1)[-1]}", f"Prepared by: {ctx.persona.name}",
                     f"Source: {src.path}"]
            content = "\n".join(lines) + "\n"
            sources[prefix + "README.txt"] = readme
            oracle.append(write_call(readme, content))
            checks.append(ck.file_equal(f"step{ctx.step}_readme", readme, content))
            outputs.append(OutputSpec(readme, ("missing", "value"), checked_values=(ctx.persona.name,)))
            readme_note = (f" First write `{readme}` containing exactly these three lines: "
                           + " / ".join(f"`{ln}`" for ln in lines) + f"; it goes into the archive as "
                           f"`{prefix}README.txt`.")
        manifest, man_fmt = _pack(ctx.step, pick_fmt(rng), archive, kind, sources, oracle, checks, outputs)
        kind_text = "a gzip-compressed tar archive" if kind == "tar.gz" else "a ZIP archive"
        member_text = join_list([f"`{m}`" for m in sorted(sources)])
        man_text = ("a CSV file with the header `member,size_bytes,sha256`" if man_fmt == "csv" else
                    "a JSON array of objects with the keys `member`, `size_bytes` and `sha256`")
        instruction = pick(rng, (
            f"Package the result for hand-off.{readme_note} Create `{archive}` ({kind_text}) holding `{src.path}` so "
            f"that its members are exactly {member_text} (no other files, no `output/` prefix). Then write "
            f"`{manifest}` as {man_text}: one row per member, sorted by member name, with the size in bytes and the "
            f"lowercase hex SHA-256 of each archived file.",
            f"Bundle `{src.path}` for sharing.{readme_note} The bundle is `{archive}` ({kind_text}); its file members "
            f"must be exactly {member_text}. Next to it, save `{manifest}` ({man_text}) listing each member (in "
            f"member-name order) with its `size_bytes` and SHA-256 digest (lowercase hex).",
        ))
        return OpStep(op=self.name, instruction=instruction, oracle=oracle, checks=checks, outputs=outputs,
                      artifact=None)

    def _build_v2(self, ctx: OpContext) -> OpStep:
        """builtin-v2: the bundle also carries the supporting documents that meet a criterion only
        their content tells (a status, a date, a reference), and the README states values computed
        from them, so the instruction alone no longer dictates the archive (issue 13: a generic
        script that parsed it passed every archive check)."""
        rng = ctx.rng
        src, kind, archive, prefix = _bundle_plan(ctx)
        docs = _handoff_docs(rng, ctx.difficulty, ctx.vocab())
        base = src.path.rsplit("/", 1)[-1]
        sources: dict[str, str] = {prefix + base: src.path}
        sources.update({f"{prefix}attachments/{name}": f"{docs.folder}/{name}" for name in docs.picked})
        oracle: list[dict[str, Any]] = []
        checks: list[dict[str, Any]] = []
        outputs: list[OutputSpec] = []
        say, part = ctx.say, ctx.clause
        readme_sentence = ""
        if ctx.difficulty >= 2:
            readme = f"output/step{ctx.step}_README.txt"
            bundle_name = archive.rsplit("/", 1)[-1]
            given = [("Bundle", bundle_name), ("Prepared by", ctx.persona.name), ("Source", src.path)]
            lines = [f"{k}: {v}" for k, v in given] + [f"Attachments: {len(docs.picked)}"]
            if docs.newest:
                lines.append(f"Newest attachment: {docs.newest}")
            content = "\n".join(lines) + "\n"
            sources[prefix + "README.txt"] = readme
            oracle.append(write_call(readme, content))
            # the lines the instruction spells out judge form only; the count and the date are the content
            checks += [ck.form(ck.plain_regex(f"step{ctx.step}_readme_{k.split()[0].lower()}", readme,
                                              rf"^[ \t]*{re.escape(k)}:[ \t]*{re.escape(v)}[ \t]*\r?$"))
                       for k, v in given]
            checks.append(ck.labelled_number(f"step{ctx.step}_readme_attachments", readme, "Attachments",
                                             len(docs.picked), tol=0))
            if docs.newest:
                checks.append(ck.plain_regex(f"step{ctx.step}_readme_newest", readme,
                                             rf"^[ \t]*Newest attachment:[ \t]*{docs.newest}[ \t]*\r?$", ci=True))
            outputs.append(OutputSpec(readme, ("missing", "value"), checked_values=(ctx.persona.name,)))
            fixed = join_list([f"`{ln}`" for ln in lines[:3]])
            count = part("[{line}, where n is how many documents you bundled|an {line} line giving the number of "
                        "documents included|{line} with the count of attached documents]",
                        line="`Attachments: <n>`")
            newest = (part("[{line}, the latest {date} among the bundled documents|a {line} line holding the most "
                          "recent date of the attached documents, written as YYYY-MM-DD]",
                          line="`Newest attachment: <YYYY-MM-DD>`", date="`Date:`") if docs.newest else "")
            extra = join_list([count] + ([newest] if newest else []))
            readme_sentence = say(
                "[[Before packing|First|Before you pack anything], [write|create|prepare] {readme} with the lines "
                "{fixed}[, followed by| and then| and after them] {extra}[,| --] [one per line|each on its own line]; "
                "it [goes into|is packed into|ends up in|belongs in] the archive as {member}."
                "|The archive [also needs|must also hold|should also carry|needs] a README: [write|create|put "
                "together|prepare] {readme}[ first|], [one line each|a line per item|each item on its own line], "
                "[containing|with|holding] {fixed}, then {extra}, and [store|pack|add|include] it [as|under the "
                "name] {member}."
                "|[Add|Include|Put in] a [short|small|plain-text|brief] README too: {readme} [lists|holds|has|"
                "contains] {fixed} [and after them|followed by|and then] {extra} ([one per line|each on its own "
                "line])[, and it is archived as|; in the archive it is|, and inside the archive it is called] "
                "{member}.]",
                readme=f"`{readme}`", fixed=fixed, extra=extra, member=f"`{prefix}README.txt`")
        manifest, man_fmt = _pack(ctx.step, pick_fmt(rng), archive, kind, sources, oracle, checks, outputs)

        kind_text = part("[a gzip-compressed tar archive|a gzipped tarball|a tar archive compressed with gzip]"
                        if kind == "tar.gz" else "[a ZIP archive|a zip file|a standard ZIP archive]")
        goal = say(
            "[[Package|Bundle|Pack up|Wrap up] {src}[ for [the|a] hand-off| for sharing| so it can be handed "
            "over|] as {archive} ({kind})[, together with|, along with| plus] the supporting documents "
            "[that apply|that qualify|that are relevant].|I [need|want|would like] {src} [handed over|shared|sent "
            "on] as {kind} at {archive}[, and| --] [the|some of the] supporting documents [belong in it|go with "
            "it|should travel with it] too.|[The next step is|Next comes|Then comes] the hand-off [package|bundle]: "
            "{kind} [at|saved as|written to] {archive} [holding|containing|with] {src} and the [relevant|matching|"
            "qualifying] supporting documents.]",
            src=f"`{src.path}`", archive=f"`{archive}`", kind=kind_text)
        crit = join_list([_criterion_text(part, k, docs, ctx.difficulty) for k in docs.kinds])
        pick_sentence = say(
            "[[The candidates|The supporting documents|The documents to choose from] [are|sit|live] in {folder}; "
            "[include|attach|take|bundle] only those {crit}.|[From|Out of] the [files|documents|notes] in "
            "{folder}, [include|attach|pick] [only|just] the ones {crit}[ -- leave the others out|; the rest "
            "stay out|].|[Only|Just] the documents in {folder} {crit} [belong in the bundle|go into the archive|"
            "should be attached][, so open each one to check|; you will have to read them to tell|].]",
            folder=f"`{docs.folder}/`", crit=crit)
        readme_member = [f"`{prefix}README.txt`"] if ctx.difficulty >= 2 else []
        top = join_list([f"`{prefix}{base}`"] + readme_member)
        placed = f"the result as `{prefix}{base}`" + (f", the README as {readme_member[0]}," if readme_member else "")
        layout = say(
            "[[Inside|In|Within] the archive, [store|put|place|keep] {placed} and [each|every] [chosen|selected|"
            "attached|qualifying] document as {att} ([keeping|with|under] its [original|own|current] file name)"
            "[; nothing else|, with no other files|, and no other files][, and no|, without any|; no] {inp} or {out} "
            "prefix[| on any member| anywhere]."
            "|The [members|archive members|file entries|entries of the archive] [must be|are|should be] {top} "
            "[plus|and] {att} for [each|every] [attached|chosen|selected|qualifying] document ([same|unchanged|"
            "original] file names)[, with no other files|, and nothing more|; nothing else goes in][ and no {out} "
            "or {inp} prefix|; no {inp} or {out} prefix on any member|]."
            "|[Lay out|Arrange|Organize|Structure] the archive [like this|as follows|this way]: {placed} "
            "[plus|and] {att} for [each|every] [chosen|attached|selected] document[ -- nothing else|, nothing more|"
            "] ([no|without] {inp} or {out} prefix[es|][, please|])."
            "]",
            top=top, placed=placed, att=f"`{prefix}attachments/<file name>`", inp="`input/`", out="`output/`")
        man_text = part("[a CSV file with the header {h}|CSV whose header row is {h}]" if man_fmt == "csv" else
                       "[a JSON array of objects with the keys {k}|a JSON array of objects, each with {k}]",
                       h="`member,size_bytes,sha256`", k="`member`, `size_bytes` and `sha256`")
        order = part("[sorted by member name in plain byte order (uppercase before lowercase)|ordered by member "
                     "name, compared byte by byte so uppercase sorts first|in byte order of the member names, "
                     "uppercase first|sorted by name as plain bytes (so uppercase comes before lowercase)]")
        digest = part("[its size in bytes and the lowercase hex SHA-256 of [the archived bytes|the archived file|"
                      "its content]|its {size} and its SHA-256 [digest |]in lowercase hex|the [byte |]size "
                      "({size}) and [a|the] lowercase hexadecimal SHA-256]", size="`size_bytes`")
        man_sentence = say(
            "[[Then|Finally|Last|To finish], [write|save|create|produce] {manifest} as {man}: [one row|a row|one "
            "entry] per [archive member|member|file in the archive], {order}, [with|giving|listing] {digest}."
            "|[Next to|Beside|Alongside|Together with] the archive, [save|keep|write|add] a [manifest|checksum "
            "list|checksum manifest] at {manifest} ({man}) [listing|with|that lists] every member {order}[, plus|"
            ", along with|, with] {digest}."
            "|[The|A] [manifest|checksum manifest] [goes to|belongs in|is] {manifest}, {man}[:| --] [listing|"
            "covering] [each|every] member {order}, [with|giving] {digest}.]",
            manifest=f"`{manifest}`", man=man_text, order=order, digest=digest)
        parts = [goal, pick_sentence] + ([readme_sentence] if readme_sentence else []) + [layout, man_sentence]
        if ctx.phrase_rng is not None and ctx.phrase_rng.random() < 0.5:  # which constraint comes first
            parts[0:2] = [parts[1], parts[0]]
        instruction = " ".join(parts)
        return OpStep(op=self.name, instruction=instruction, oracle=oracle, checks=checks, outputs=outputs,
                      artifact=None, input_files={f"{docs.folder}/{n}": t.encode() for n, t in docs.files.items()})


# builtin-v2: supporting documents for the hand-off bundle, chosen by what they say

_DOC_KINDS = ("memo", "minutes", "brief", "notes", "summary", "checklist", "handover", "review", "estimate", "plan")
_DOC_STATUS_OTHER = ("draft", "superseded", "in review", "on hold")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")
_MENTIONS = ("Follow-up is tracked under {code}.", "Related ticket: {code}.", "This covers the open items of {code}.",
             "Costs are booked against {code}.", "Raised in the {code} review.")


@dataclass
class _HandoffDocs:
    folder: str
    kinds: list[str]
    """The criteria that pick the documents (all must hold): 'status', 'date', 'ref'."""
    files: dict[str, str]
    """file name -> text."""
    picked: list[str]
    """The names of the documents that meet every criterion, sorted."""
    cutoff: str
    code: str
    newest: str
    """The latest date among the picked documents (ISO), stated in the README from difficulty 3; else ''."""


def _show_date(rng: Any, d: date, varied: bool) -> str:
    if not varied:
        return d.isoformat()
    return rng.choice((d.isoformat(), f"{d.day} {_MONTH_NAMES[d.month - 1][:3]} {d.year}",
                       f"{_MONTH_NAMES[d.month - 1]} {d.day}, {d.year}"))


def _handoff_docs(rng: Any, difficulty: int, vocab: Vocab) -> _HandoffDocs:
    """Candidate documents of which a known proper subset (at least two, never all) meets every
    criterion; each other one fails at least one. From difficulty 3 dates and statuses are written
    in mixed styles and other documents cite near-miss reference codes. Their prose and reference codes
    are the workplace's (``vocab``)."""
    kinds = sorted(rng.sample(("status", "date", "ref"), 1 + (difficulty >= 4)))
    n = 4 + difficulty + rng.randrange(2)
    chosen = set(rng.sample(range(n), rng.randint(2, n - 2)))
    cutoff = date(2026, 1, 1) + timedelta(days=rng.randrange(60, 240))
    letters = rng.choice(vocab.codes)
    num = rng.randint(100, 899)
    code = f"{letters}-{num}"
    near = [f"{letters}-{num + d}" for d in (1, 10, 100)] + [
        f"{rng.choice([p for p in ('PR', 'QA', 'HR') if p != letters])}-{num}"]
    varied = difficulty >= 3
    files: dict[str, str] = {}
    picked: list[str] = []
    dates: dict[str, date] = {}
    for i in range(n):
        ok = {k: rng.random() < 0.5 for k in ("status", "date", "ref")}
        if i in chosen:
            ok.update({k: True for k in kinds})
        else:
            fail = rng.choice(kinds)
            ok.update({k: k != fail and rng.random() < 0.5 for k in kinds})
        while True:
            name = f"{rng.choice(_DOC_KINDS)}_{rng.randint(10, 99)}.{rng.choice(('txt', 'md'))}"
            if name not in files:
                break
        day = cutoff + timedelta(days=rng.randrange(0, 90)) if ok["date"] else cutoff - timedelta(
            days=rng.randrange(1, 120))
        status = "final" if ok["status"] else rng.choice(_DOC_STATUS_OTHER)
        if varied:
            status = rng.choice((status, status.capitalize(), status.upper()))
        cited = code if ok["ref"] else (rng.choice(near) if varied or rng.random() < 0.5 else None)
        body = [rng.choice(vocab.notes) for _ in range(rng.randint(2, 6))]
        if cited:
            body.insert(rng.randrange(len(body) + 1), rng.choice(_MENTIONS).format(code=cited))
        title = name.rsplit(".", 1)[0].replace("_", " ").capitalize()
        head = [f"# {title}" if name.endswith(".md") else title.upper(), "",
                f"Date: {_show_date(rng, day, varied)}", f"Status: {status}", ""]
        files[name] = "\n".join(head + body) + "\n"
        if i in chosen:
            picked.append(name)
            dates[name] = day
    newest = max(dates.values()).isoformat() if difficulty >= 3 else ""
    folder = "input/" + rng.choice(("handoff_docs", "supporting_docs", "attachments_pool", "team_notes"))
    return _HandoffDocs(folder, kinds, files, sorted(picked), cutoff.isoformat(), code, newest)



def _criterion_text(say: Callable[..., str], kind: str, docs: _HandoffDocs, difficulty: int) -> str:
    """How a request states one selection rule (a relative clause: 'documents <text>')."""
    hard = difficulty >= 3
    if kind == "status":
        return say("[whose {st} line says final|marked final on their {st} line|that are final according to their {st} "
                   "line]" + ("[ (in any capitalization)| (case does not matter)| (drafts and the rest stay out, "
                              "whatever the capitalization)]" if hard else "[ (drafts and anything else stay out)|]"),
                   st="`Status:`")
    if kind == "date":
        return say("[dated {cutoff} or later|whose {d} line is on or after {cutoff}|written on or after {cutoff} "
                   "according to their {d} line]"
                   + ("[ (whatever way the date is written)| (the dates are not all in the same format)]" if hard
                      else ""), cutoff=docs.cutoff, d="`Date:`")
    return say("[that mention {code}|that refer to {code} somewhere in their text|that cite the reference {code}]"
               + ("[ (exactly that code, not a similar one)| (watch for codes that only look alike)]" if hard else ""),
               code=f"`{docs.code}`")

# ---------------------------------------------------------------- update_config

_FEATURES = ("bulk_import", "dark_mode", "audit_log", "beta_search", "sso_login", "email_digest", "rate_limiting",
             "webhooks")
_DEPRECATED = (("app", "use_old_scheduler"), ("features", "legacy_export"), ("database", "ssl_v2_fallback"),
               ("logging", "syslog_udp"))


def _render_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class _Config:
    """A two-level configuration (sections of keys) rendered in one of four file formats."""

    def __init__(self, sections: list[tuple[str, list[tuple[str, Any]]]], fmt: str, title: str,
                 deprecated: set[tuple[str, str]]):
        self.sections, self.fmt, self.title, self.deprecated = sections, fmt, title, deprecated
        self.env_tail: list[str] = []
        """Variables appended at the very end of a .env file."""

    def key_name(self, sec: str, key: str) -> str:
        if self.fmt == "env":
            return f"{'FEATURE' if sec == 'features' else sec.upper()}_{key.upper()}"
        return f"{sec}.{key}"

    def render(self) -> str:
        if self.fmt == "json":
            doc = {s: dict(items) for s, items in self.sections}
            return json.dumps(doc, indent=2) + "\n"
        out: list[str] = []
        if self.fmt == "yaml":
            out.append(f"# {self.title}")
            for s, items in self.sections:
                out += ["", f"{s}:"]
                out += [f"  {k}: {_render_value(v)}" + ("  # deprecated" if (s, k) in self.deprecated else "")
                        for k, v in items]
        elif self.fmt == "ini":
            out.append(f"; {self.title}")
            for s, items in self.sections:
                out += ["", f"[{s}]"]
                out += [f"{k} = {_render_value(v)}" + ("  ; deprecated" if (s, k) in self.deprecated else "")
                        for k, v in items]
        else:
            out.append(f"# {self.title}")
            for s, items in self.sections:
                out += ["", f"# --- {s} ---"]
                out += [f"{self.key_name(s, k)}={_render_value(v)}" + ("  # deprecated" if (s, k) in self.deprecated else "")
                        for k, v in items]
            out += self.env_tail
        return "\n".join(out) + "\n"

    def line_of(self, sec: str, key: str) -> int:
        """1-based line of a key in the rendered file."""
        text = self.render().splitlines()
        current = None
        for i, ln in enumerate(text, 1):
            if self.fmt == "json":
                m = re.match(r'^  "(\w+)": \{', ln)
                if m:
                    current = m.group(1)
                elif current == sec and re.match(rf'^    "{key}":', ln):
                    return i
            elif self.fmt == "yaml":
                if re.match(r"^\w+:", ln):
                    current = ln[:-1]
                elif current == sec and re.match(rf"^  {key}:", ln):
                    return i
            elif self.fmt == "ini":
                if ln.startswith("["):
                    current = ln[1:-1]
                elif current == sec and re.match(rf"^{key} =", ln):
                    return i
            elif ln.startswith(self.key_name(sec, key) + "="):
                return i
        raise KeyError((sec, key))

    def value_check(self, name: str, path: str, sec: str, key: str, value: Any) -> dict[str, Any]:
        """A check that ``sec.key`` holds ``value`` in the output file (stdlib only: regex or JSON)."""
        if self.fmt == "json":
            return ck.json_equal(name, path, value, key_path=[sec, key], tol=0)
        val = "[\"']?" + re.escape(_render_value(value)) + "[\"']?[ \\t]*(?:[#;].*)?$"
        if self.fmt == "yaml":
            pattern = rf"^{sec}:[ \t]*\n(?:(?:[ \t].*|#.*)?\n)*?[ \t]+{key}:[ \t]*{val}"
        elif self.fmt == "ini":
            pattern = rf"^\[{sec}\][ \t]*\n(?:(?![ \t]*\[).*\n)*?[ \t]*{key}[ \t]*[=:][ \t]*{val}"
        else:
            pattern = rf"^(?:export[ \t]+)?{self.key_name(sec, key)}[ \t]*=[ \t]*{val}"
        return ck.regex(name, path, pattern)


class UpdateConfig:
    """Apply a change request (version bump, ports, flags, removals, additions) to a config file and
    log each change."""

    name = "update_config"
    category = "system_env"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        service = rng.choice(ctx.vocab().services if ctx.v2 else ("billing-api", "booking-service", "inventory-sync",
                                                                   "notify-worker", "reports-web"))
        fmt = rng.choice(("yaml", "ini", "json", "env"))
        version = [rng.randint(1, 4), rng.randint(0, 12), rng.randint(0, 9)]
        feats = rng.sample(_FEATURES, 3)
        sections: list[tuple[str, list[tuple[str, Any]]]] = [
            ("app", [("name", service), ("version", ".".join(map(str, version))),
                     ("port", rng.choice((5000, 8000, 8080, 9000))), ("workers", rng.choice((2, 4, 8))),
                     ("debug", False)]),
            ("database", [("host", "db.internal"), ("port", rng.choice((5432, 3306))),
                          ("name", service.replace("-", "_")), ("pool_size", rng.choice((5, 10, 20))),
                          ("timeout_seconds", rng.choice((10, 30, 60)))]),
            ("cache", [("enabled", True), ("host", "redis.internal"), ("ttl_seconds", rng.choice((60, 300, 900)))]),
            ("features", [(f, rng.random() < 0.5) for f in feats]),
            ("logging", [("level", rng.choice(("info", "debug"))), ("format", rng.choice(("json", "text"))),
                         ("retention_days", rng.choice((7, 14, 30)))]),
        ]
        dep_sec, dep_key = rng.choice(_DEPRECATED)
        dict(sections)[dep_sec].insert(rng.randint(1, len(dict(sections)[dep_sec])), (dep_key, True))
        title = f"{service} configuration ({rng.choice(('staging', 'production'))})"
        conf = _Config(sections, fmt, title, {(dep_sec, dep_key)})
        original = conf.render()
        def get(sec: str, key: str) -> Any:
            return dict(dict(sections)[sec])[key]

        # candidate changes: (sentence, section, key, new value or None to remove, action)
        def name(s: str, k: str) -> str:
            return f"`{conf.key_name(s, k)}`"

        bump = rng.choice(("patch", "minor", "major"))
        newv = list(version)
        if bump == "patch":
            newv[2] += 1
        elif bump == "minor":
            newv[1:] = [newv[1] + 1, 0]
        else:
            newv = [newv[0] + 1, 0, 0]
        new_level = rng.choice(("warning", "error")) if get("logging", "level") == "info" else "info"
        flag = rng.choice(feats)
        cands: list[tuple[str, str, str, Any, str]] = [
            (f"Bump the {bump} version in {name('app', 'version')}" + (
                " (reset the lower parts to 0)" if bump != "patch" else ""), "app", "version",
             ".".join(map(str, newv)), "changed"),
            (f"Move the database to port {6432 if get('database', 'port') == 5432 else 3307} "
             f"({name('database', 'port')})", "database", "port",
             6432 if get("database", "port") == 5432 else 3307, "changed"),
            (f"{'Disable' if get('features', flag) else 'Enable'} the {name('features', flag)} flag", "features", flag,
             not get("features", flag), "changed"),
            (f"Double {name('database', 'pool_size')}", "database", "pool_size", 2 * get("database", "pool_size"),
             "changed"),
            (f"Set {name('logging', 'level')} to `{new_level}`", "logging", "level", new_level, "changed"),
            (f"Serve the app on port {get('app', 'port') + 1} ({name('app', 'port')})", "app", "port",
             get("app", "port") + 1, "changed"),
            (f"Keep logs for {2 * get('logging', 'retention_days')} days ({name('logging', 'retention_days')})",
             "logging", "retention_days", 2 * get("logging", "retention_days"), "changed"),
        ]
        k = 2 + (ctx.difficulty + 1) // 2
        chosen = [cands[0]] + rng.sample(cands[1:], k - 1)
        rng.shuffle(chosen)
        chosen.append((f"Remove the deprecated {name(dep_sec, dep_key)} setting", dep_sec, dep_key, None, "removed"))
        if ctx.difficulty >= 3:
            add_sec, add_key, add_val = rng.choice((("cache", "max_entries", 10000), ("logging", "include_request_id", True),
                                                     ("app", "shutdown_grace_seconds", 20)))
            where = ("at the end of the file" if fmt == "env" else
                     f"as the last key of the `{add_sec}` section" if fmt != "json" else f"to the `{add_sec}` object")
            chosen.append((f"Add {name(add_sec, add_key)} with the value `{_render_value(add_val)}` {where}", add_sec,
                           add_key, add_val, "added"))
        # apply the changes
        lines = {(s, key): conf.line_of(s, key) for _, s, key, _, action in chosen if action != "added"}
        changelog: list[Row] = []
        for _, s, key, val, action in chosen:
            items = dict(sections)[s]
            old = dict(items).get(key)
            line = lines.get((s, key), 0)
            if action == "removed":
                items[:] = [(kk, vv) for kk, vv in items if kk != key]
            elif action == "added" and fmt == "env":
                conf.env_tail.append(f"{conf.key_name(s, key)}={_render_value(val)}")
            elif action == "added":
                items.append((key, val))
            else:
                items[:] = [(kk, val if kk == key else vv) for kk, vv in items]
            changelog.append({"key": conf.key_name(s, key), "action": action,
                              "old": "" if old is None else _render_value(old),
                              "new": "" if val is None else _render_value(val), "line": line})
        conf.deprecated = set()
        updated = conf.render()
        fname = {"yaml": "settings.yaml", "ini": "settings.ini", "json": "settings.json", "env": "app.env"}[fmt]
        src_path = f"input/config/{fname}"
        out_path = f"output/step{ctx.step}_{fname}"
        req_path = "input/change_request.md"
        ticket = f"CHG-{rng.randint(1000, 9999)}"
        request = "\n".join([f"# {ticket}: {service} release preparation", "",
                             f"Requested by: {ctx.persona.name}", f"File: `{src_path}`", "",
                             "Please make these changes:", ""] +
                            [f"{i}. {c[0]}." for i, c in enumerate(chosen, 1)] +
                            ["", "Everything else must stay exactly as it is."]) + "\n"
        log_fmt = pick_fmt(rng)
        log = Table(columns=["key", "action", "old", "new", "line"], rows=changelog,
                    path=f"output/step{ctx.step}_config_changes.{log_fmt}", fmt=log_fmt, label="config changes",
                    key="key", numeric=["line"], category="action")
        key_note = ("the variable name" if fmt == "env" else
                    "`section.key`, e.g. `cache.host` for `host` " + ("under `[cache]`" if fmt == "ini" else "in `cache`"))
        keep = ("every other line must stay exactly as it is, including comments, blank lines and order"
                if fmt != "json" else "keep all other keys and values unchanged")
        instruction = _config_words(ctx, fmt, req_path, src_path, out_path, log) if ctx.v2 else pick(rng, (
            f"Apply the change request in `{req_path}` to `{src_path}` and write the updated file to `{out_path}` "
            f"(same format; {keep}; a removed setting disappears together with its line). Then log the changes in "
            f"`{log.path}` as {describe_format(log_fmt)} with the columns `key` ({key_note}), `action` (`changed`, "
            f"`removed` or `added`), `old` and `new` (the values as plain text without quotes, booleans as `true`/`false`, empty when there is none) and "
            f"`line` (the key's line number in the original file, 0 for added keys), one row per requested change in "
            f"the request's order.",
            f"`{req_path}` asks for changes to `{src_path}`. Produce the changed configuration at `{out_path}` without "
            f"touching the original ({keep}; drop removed settings' lines entirely), and a change log at `{log.path}` "
            f"({describe_format(log_fmt)}; columns `key` = {key_note}, `action` = changed/removed/added, `old`, `new` "
            f"= the values as plain text without quotes, empty if none, `line` = 1-based line of the key in the original file or 0 "
            f"when added) with one row per change, in the order the request lists them.",
        ))
        checks: list[dict[str, Any]] = []
        for i, (_, s, key, val, action) in enumerate(chosen):
            cname = f"step{ctx.step}_config_{i}_{key}"
            if action == "removed":
                checks.append(ck.absent_words(cname, out_path, [conf.key_name(s, key) if fmt == "env" else key]))
            else:
                checks.append(conf.value_check(cname, out_path, s, key, val))
        if fmt == "json":
            checks.append(ck.json_equal(f"step{ctx.step}_config_rest", out_path, json.loads(updated), tol=0))
        elif ctx.v2:  # the settings, not their spelling: `version: "1.1.5"` quoted, `key=v` spacing
            checks.append(ck.config_equal(f"step{ctx.step}_config_rest", out_path, updated, fmt))
        else:
            checks.append(ck.lines_equal(f"step{ctx.step}_config_rest", out_path,
                                         [ln.strip() for ln in updated.splitlines() if ln.strip()]))
        checks += table_checks(ctx.step, "changelog", log)
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(out_path, updated), write_call(log.path, serialize(log))],
            checks=checks,
            outputs=[OutputSpec(out_path, ("missing", "value", "format") if fmt == "json" else ("missing", "value")),
                     OutputSpec(log.path, TABLE_MUTATIONS)],
            artifact=log,
            input_files={src_path: original.encode(), req_path: request.encode()},
        )


def _config_words(ctx: OpContext, fmt: str, req_path: str, src_path: str, out_path: str, log: Table) -> str:
    """builtin-v2's wording of update_config: the same rules for the file and the log, as grammars."""
    say, part = ctx.say, ctx.clause
    if fmt == "env":
        key_note = part("[the variable name|the variable's name|the name of the variable]")
    else:
        under = "under `[cache]`" if fmt == "ini" else "in `cache`"
        key_note = part("[{sk}, for example {ex} for {h} {under}|{sk}, so {h} {under} is {ex}|written as {sk}, "
                        "like {ex} for {h} {under}]", sk="`section.key`", ex="`cache.host`", h="`host`", under=under)
    if fmt == "json":
        keep = part("[keep all other keys and values unchanged|every other key and value stays as it is|leave the "
                    "other keys and values alone]")
    else:
        keep = part("[every other line must stay exactly as it is, including comments, blank lines and order|leave "
                    "every other line exactly as it was, comments, blank lines and order included|all other lines "
                    "-- comments and blank lines too -- stay exactly as they are, in the same order]")
    gone = part("[a removed setting disappears together with its line|drop removed settings' lines entirely|a setting "
                "that is removed loses its whole line]")
    first = say(
        "[[Apply|Carry out|Work through] the change request in {req} [on|to] {src} and [write|save|put] the "
        "[updated|changed|new] file [to|at|as] {out} ([same format|in the same format|keeping its format]; {keep}; "
        "{gone})."
        "|{Req} [asks for|lists|describes|spells out] [changes|a few changes|some edits|a handful of edits] to {src}"
        "[, filed by the team| for the next release| from the release checklist|]; [produce|write|create] the "
        "[changed|updated|edited] configuration at {out}[, without touching the original| and leave the original "
        "untouched| -- the original stays as it is] ({keep}; {gone})."
        "|[Please apply|Please make] the changes [requested|listed|described] in {req} to a copy of {src}[ and "
        "save it|, saved] [as|at|to] {out}. [Keep the same format:|Same format, and|Stick to the same format;|The "
        "format stays the same, and] {keep}; {gone}."
        "|Could you [apply|make] the changes [requested|listed|described] in {req} to a copy of {src}[ and save it|"
        ", saved] [as|at|to] {out}? [Keep the same format:|Same format, and|Stick to the same format;|The format "
        "stays the same, and] {keep}; {gone}.]",
        req=f"`{req_path}`", Req=f"`{req_path}`", src=f"`{src_path}`", out=f"`{out_path}`", keep=keep, gone=gone)
    vals = part("[the values as plain text without quotes, booleans as {tf}, empty when there is none|each value as "
                "plain text (no quotes, booleans as {tf}), or empty if there is none|plain-text values without "
                "quotes, {tf} for booleans, left empty where there is no value]", tf="`true`/`false`")
    line = part("[the key's line number in the original file, 0 for added keys|the 1-based line of the key in the "
                "original file, or 0 when it is added|where the key sits in the original file as a 1-based line "
                "number, 0 for a new key]")
    second = say(
        "[[Then|Next|After that|Also], [log|record|list] the changes in {log} ({fmt}) with the columns {k} ({kn}), "
        "{a} ({acts}), {o} and {n} ({vals}) and {ln} ({line}), one row per requested change in the request's "
        "order."
        "|[Keep|Write|Add] a change log at {log} ({fmt}; columns {k} = {kn}, {a} = {acts}, {o} and {n} = {vals}, "
        "{ln} = {line}) with one row per change, [in the order the request lists them|in the request's order|"
        "following the order of the request]."
        "|[For the record|So there is a trail|For review], [list|log|note] [each|every] [requested change|change] "
        "[as a row|in its own row] of {log}, {fmt}, [in the order of the request|in request order|ordered as in "
        "the request]: {k} ({kn}), {a} ({acts}), {o} and {n} ({vals}), and {ln} ({line}).]",
        log=f"`{log.path}`", fmt=_fmt_words(part, log.fmt), k="`key`", kn=key_note, a="`action`",
        acts=part("[{c}, {r} or {ad}|one of {c}, {r}, {ad}]", c="`changed`", r="`removed`", ad="`added`"),
        o="`old`", n="`new`", vals=vals, ln="`line`", line=line)
    return f"{first} {second}"
