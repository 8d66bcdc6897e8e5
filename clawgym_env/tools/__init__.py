"""OpenClaw-compatible tools: schemas, validation, dispatch, tool-call parsing, system prompt.

Importing this package is light: it reads two small data files on first use and imports the core
tool implementations (read/write/edit in ``fs``, exec/process in ``exec_tools``) only when a
``ToolBox`` needs them.
"""

from clawgym_env.tools.context import ToolContext, ToolError
from clawgym_env.tools.parsing import ParsedAction, ToolCall, parse_action
from clawgym_env.tools.prompt import SYSTEM_PROMPT_STYLES, bootstrap_files, build_compact_system_prompt, build_system_prompt
from clawgym_env.tools.schemas import PROFILES, tool_schemas
from clawgym_env.tools.toolbox import ToolBox, ToolResult

__all__ = [
    "PROFILES",
    "SYSTEM_PROMPT_STYLES",
    "ParsedAction",
    "ToolBox",
    "ToolCall",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "bootstrap_files",
    "build_compact_system_prompt",
    "build_system_prompt",
    "parse_action",
    "tool_schemas",
]
