"""The official ClawGym ``reward/reward.sh``, which every shipped task uses byte for byte.

It lives in the tasks layer because it is part of the task format (DESIGN.md contract 1): the
PinchBench loader and the synthesizer both write it into the tasks they make, so those tasks also
score the same in the authors' own pipeline. The path in it is the literal the authors ship
(``paths.WORKSPACE``), kept as text because the script is quoted, not composed.
"""

from __future__ import annotations

# run check.py, print the mean of its values (a bare number as is, anything else 0.0)
REWARD_SH = (
    "#!/usr/bin/env bash\n"
    "set -euo pipefail\n"
    "\n"
    "python3 /root/.openclaw/workspace/reward/check.py /root/.openclaw/workspace | python3 -c 'import json, sys; "
    "raw = sys.stdin.read().strip(); data = json.loads(raw); print(sum(float(v) for v in data.values()) / "
    "len(data) if isinstance(data, dict) and data else float(data) if isinstance(data, (int, float)) else 0.0)'\n"
)

__all__ = ["REWARD_SH"]
