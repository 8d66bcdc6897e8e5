"""Differential tests against the real OpenClaw tools (npm ``openclaw@VERSION``); see diff.py."""
