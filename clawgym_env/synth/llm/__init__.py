"""LLM task synthesis (the paper's SynData pipelines) against any OpenAI-compatible endpoint.

One module per job: :mod:`client` (one chat completion, with the OpenAI agent's retries),
:mod:`jsonout` (JSON out of model prose), :mod:`stages` (resumable JSONL stages, concurrency, token
accounting), :mod:`novelty` (per-category near-duplicate filter), :mod:`prompts` (our prompt texts),
:mod:`persona2task` (the persona route, stages 1-6), :mod:`report` (the funnel). Nothing here is
imported by ``import clawgym_env``; the embedding model loads only when the dedup stage runs.
"""
