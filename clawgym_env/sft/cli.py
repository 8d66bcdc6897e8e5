"""``clawgym sft build`` and ``clawgym sft import``: argument parsing and printing only; the work is
in :mod:`importers`, :mod:`filter` and :mod:`export`.

Exit codes: 0 done, 1 nothing kept, 2 bad input (unreadable line, missing tokenizer, template drift, a
chat template that drops tool calls or tool schemas).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION, OPENCLAW_VERSIONS


def _read_system_prompt(args: argparse.Namespace) -> str | None:
    return Path(args.system_prompt_file).read_text(encoding="utf-8") if args.system_prompt_file else None


def _load(args: argparse.Namespace, *, progress: bool = False) -> tuple[list[Any], Any]:
    """Every input's trajectories, file by file behind a progress bar (an OpenClaw session folder
    holds a file per episode: thousands of them)."""
    from clawgym_env.progress import progress_bar
    from clawgym_env.sft.importers import ImportStats, input_files, load_trajectories

    stats = ImportStats()
    records = []
    files = [f for path in args.inputs for f in input_files(path)]
    with progress_bar("reading trajectories", len(files), enabled=progress) as advance:
        for file in files:
            records.extend(load_trajectories(file, system_prompt=_read_system_prompt(args),
                                             tools_profile=args.tools_profile,
                                             openclaw_version=args.openclaw_version, stats=stats))
            advance()
    return records, stats


def _print_import_stats(stats: Any) -> None:
    files = ", ".join(f"{kind} {n}" for kind, n in sorted(stats.files.items()))
    loaded = ", ".join(f"{kind} {n}" for kind, n in sorted(stats.records.items())) or "none"
    print(f"read {sum(stats.files.values())} input files ({files}); trajectories by format: {loaded}")
    for what, n in sorted(stats.skipped.items()):
        print(f"  skipped {n}: {what}")


def cmd_sft_build(args: argparse.Namespace) -> int:
    """Load trajectories, filter them, write each requested SFT format into --out."""
    from clawgym_env.sft.export import (
        atomic_path,
        needs_tokenizer,
        parse_formats,
        split_verl_compatible,
        write_format,
    )
    from clawgym_env.sft.filter import FilterConfig, filter_records

    try:
        formats = parse_formats(args.format)
    except ValueError as exc:
        print(f"clawgym sft build: {exc}", file=sys.stderr)
        return 2
    tokenized = [f for f in formats if needs_tokenizer(f, from_rollout=args.from_rollout_tokens)]
    if tokenized and not args.tokenizer:
        print(f"clawgym sft build: format(s) {', '.join(tokenized)} need --tokenizer NAME_OR_PATH "
              "(a Hugging Face tokenizer; --chat-template to override its template)", file=sys.stderr)
        return 2
    cfg = FilterConfig(min_reward=args.min_reward, keep_unrewarded=args.keep_unrewarded,
                       drop_unknown_tools=not args.keep_unknown_tools, drop_limit_hits=not args.keep_limit_hits,
                       dedupe=not args.no_dedupe, per_task_cap=args.per_task_cap,
                       min_assistant_turns=args.min_assistant_turns)
    start = time.monotonic()
    try:
        records, import_stats = _load(args, progress=not args.json and sys.stdout.isatty())
    except ValueError as exc:
        print(f"clawgym sft build: {exc}", file=sys.stderr)
        return 2
    result = filter_records(records, cfg)
    if not args.json:
        _print_import_stats(import_stats)
        print(result.summary_text())
    if not result.kept:
        print("clawgym sft build: no trajectory passed the filter; nothing written (see the reasons above; "
              "--min-reward, --keep-unrewarded, --keep-limit-hits relax it)", file=sys.stderr)
        return 1

    tokenizer = None
    if tokenized or args.tokenizer:
        from clawgym_env.sft.tokenize import load_tokenizer

        try:
            tokenizer = load_tokenizer(args.tokenizer, args.chat_template)
        except (OSError, ValueError) as exc:
            print(f"clawgym sft build: cannot load tokenizer {args.tokenizer!r}: {exc}", file=sys.stderr)
            return 2
        if [f for f in formats if f != "tokens" or not args.from_rollout_tokens]:  # the template shapes the data
            from clawgym_env.sft.export import ToolTemplateError, check_tool_template

            try:
                check_tool_template(tokenizer)
            except ToolTemplateError as exc:
                template = args.chat_template or f"{args.tokenizer}'s own"
                print(f"clawgym sft build: {exc} (template: {template}); nothing written", file=sys.stderr)
                return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Any] = {}
    if "verl" in formats and tokenizer is not None:
        kept, bad = split_verl_compatible(result.kept, tokenizer)
        if bad and not args.drop_drift:
            for episode, why in bad[:5]:
                print(f"clawgym sft build: verl: {episode}: {why}", file=sys.stderr)
            print(f"clawgym sft build: verl: {len(bad)} conversation(s) would fail veRL's per-message tokenization "
                  "check (MultiTurnSFTDataset's AssertionError); --drop-drift drops them", file=sys.stderr)
            return 2
        if bad:
            print(f"verl: dropped {len(bad)} conversation(s) veRL's per-message tokenization cannot reproduce")
        result.kept = kept
    for name in formats:
        try:
            written[name] = write_format(name, result.kept, out, tokenizer=tokenizer,
                                         from_rollout=args.from_rollout_tokens,
                                         on_drift="drop" if args.drop_drift else "error",
                                         progress=not args.json and sys.stdout.isatty())
        except ValueError as exc:  # template drift, or a record without rollout token ids
            print(f"clawgym sft build: {name}: {exc}", file=sys.stderr)
            return 2
        if not args.json:
            extra = f", {written[name]['dropped_drift']} dropped for template drift" \
                if written[name].get("dropped_drift") else ""
            print(f"wrote {name}: {written[name]['path']} ({written[name]['rows']} rows{extra})")

    from clawgym_env import __version__

    report = {"inputs": [str(p) for p in args.inputs], "out": str(out), "formats": written,
              "config": cfg.model_dump(), "import": import_stats.to_dict(), **result.to_dict(),
              "tokenizer": args.tokenizer, "chat_template": args.chat_template,
              "from_rollout_tokens": args.from_rollout_tokens, "seconds": round(time.monotonic() - start, 3),
              "clawgym_version": __version__}
    with atomic_path(out / "sft_build.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(f"report: {out / 'sft_build.json'}")
    return 0


def cmd_sft_tiny_model(args: argparse.Namespace) -> int:
    """Build the tiny local Qwen3-architecture model + tokenizer (smoke runs, tests; no download)."""
    from clawgym_env.sft.tiny import save_tiny

    out = save_tiny(args.out, chat_template=args.chat_template)
    print(f"wrote a tiny random-init Qwen3 model + BPE tokenizer ({args.chat_template} template) to {out}")
    return 0


def cmd_sft_import(args: argparse.Namespace) -> int:
    """Convert outside trajectories (authors' JSONL, OpenClaw sessions) to our record JSONL."""
    from clawgym_env.sft.export import atomic_path

    try:
        records, stats = _load(args)
    except ValueError as exc:
        print(f"clawgym sft import: {exc}", file=sys.stderr)
        return 2
    with atomic_path(args.out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.writelines(r.to_json_line() for r in records)
    _print_import_stats(stats)
    print(f"wrote {len(records)} records to {args.out}")
    return 0


def _input_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("inputs", nargs="+", metavar="INPUT",
                    help="records.jsonl, authors' trajectory JSONL, an OpenClaw session file, or a directory "
                    "of *.jsonl files (e.g. ~/.openclaw/agents/main/sessions)")
    sp.add_argument("--system-prompt-file", metavar="F",
                    help="system prompt put first in imported OpenClaw sessions (they store none; default: none)")
    sp.add_argument("--tools-profile", default="openclaw", choices=["openclaw", "rl", "coding"],
                    help="tool schemas for imports that carry none (default: openclaw, the authors' 19-tool SFT "
                    "schema)")
    sp.add_argument("--openclaw-version", default=DEFAULT_OPENCLAW_VERSION, choices=list(OPENCLAW_VERSIONS),
                    help="whose schemas those are (default: 2026.3.24, the version the SFT data came from)")


def add_sft_parser(sub: Any) -> None:
    """Register ``clawgym sft {build,import,tiny-model}`` on the top-level subparsers."""
    from clawgym_env.sft.export import DEFAULT_FORMATS, FORMATS

    group = sub.add_parser("sft", help="SFT data from trajectories: filter, export loss-masked multi-turn data")
    actions = group.add_subparsers(dest="sft_command", required=True)

    sp = actions.add_parser("build", help="filter trajectories and write SFT datasets (veRL, TRL/HF, OpenRLHF, "
                            "token ids) into --out, with sft_build.json")
    _input_options(sp)
    sp.add_argument("--out", required=True, metavar="DIR", help="output folder")
    sp.add_argument("--format", default=",".join(DEFAULT_FORMATS),
                    help="comma-separated: " + ", ".join(f"{f.name} ({f.filename})" for f in FORMATS.values())
                    + f" (default: {','.join(DEFAULT_FORMATS)})")
    sp.add_argument("--min-reward", type=float, default=1.0, help="keep rewards >= this (default 1.0)")
    sp.add_argument("--keep-unrewarded", action="store_true", help="keep imports that carry no reward")
    sp.add_argument("--keep-limit-hits", action="store_true", help="keep episodes a budget or max_steps cut")
    sp.add_argument("--keep-unknown-tools", action="store_true",
                    help="keep episodes that call tools not among their tool schemas")
    sp.add_argument("--no-dedupe", action="store_true", help="keep identical conversations")
    sp.add_argument("--per-task-cap", type=int, metavar="N", help="at most N trajectories per task (best first)")
    sp.add_argument("--min-assistant-turns", type=int, default=1, metavar="N", help="default 1")
    sp.add_argument("--tokenizer", metavar="NAME_OR_PATH", help="HF tokenizer (openrlhf-pretok, tokens)")
    sp.add_argument("--chat-template", metavar="NAME_OR_PATH",
                    help="chat template: a TRL template name (e.g. qwen3_instruct_2507) or a .jinja file "
                    "(default: the tokenizer's own)")
    sp.add_argument("--from-rollout-tokens", action="store_true",
                    help="tokens format: the exact ids the HF agent generated instead of re-templating")
    sp.add_argument("--drop-drift", action="store_true",
                    help="drop (and count) conversations whose per-turn tokenization drifts from the whole "
                    "(default: fail)")
    sp.add_argument("--json", action="store_true", help="print the sft_build.json report instead of a summary")
    sp.set_defaults(fn=cmd_sft_build)

    sp = actions.add_parser("import", help="convert outside trajectories (authors' JSONL, OpenClaw sessions) "
                            "to clawgym trajectory records")
    _input_options(sp)
    sp.add_argument("--out", required=True, metavar="RECORDS.jsonl", help="the record JSONL to write")
    sp.set_defaults(fn=cmd_sft_import)

    sp = actions.add_parser("tiny-model", help="build a tiny random-init Qwen3 model + local BPE tokenizer "
                            "(for CPU smoke runs; nothing is downloaded)")
    sp.add_argument("out", metavar="DIR")
    sp.add_argument("--chat-template", default="qwen3_instruct_2507", help="TRL template name or .jinja file")
    sp.set_defaults(fn=cmd_sft_tiny_model)


__all__ = ["add_sft_parser", "cmd_sft_build", "cmd_sft_import"]
