"""The built-in suite's taxonomy: 9 scenario categories / 43 subcategories, 7 operation categories /
26 atomic operations (the paper's counts).

The authors' released seeds list 11 categories / 51 subcategories (``seeds/category2.json``) and 6
categories / 19 actions (``seeds/action2-remove.json``), see specs/clawgym-reference.md §E1. We
reconcile them to the paper's counts as recorded in ``SCENARIO_FROM_SEEDS`` / ``OPERATION_FROM_SEEDS``:
scenario subcategories that overlap are merged (8 merges, 51 -> 43) and two seed categories fold into
others (11 -> 9); operations gain a planning category and the actions the seeds pruned (19 -> 26).
"""

from __future__ import annotations

SCENARIOS: dict[str, tuple[str, ...]] = {
    "Office & Daily Tasks": (
        "document writing and editing", "meeting notes and summaries", "table and record handling",
        "schedule, task and meeting management", "translation and text assistance"),
    "Communication & Collaboration": (
        "general content writing", "marketing and social content", "SEO and page optimization",
        "email and message handling", "notifications, reminders and follow-up",
        "team collaboration and synchronization"),
    "Information Retrieval & Research": (
        "information search and lookup", "web collection and scraping", "research and information synthesis",
        "fact-checking, critique and verification", "knowledge retrieval and grounding"),
    "Analysis & Decision Support": (
        "data analysis, calculation and logical reasoning", "classification, ranking and scoring",
        "trend monitoring and detection", "transaction and financial analysis", "lifestyle decision support"),
    "Automation & Workflows": (
        "scheduled task execution", "event-triggered automation", "task routing and orchestration"),
    "Software Development": (
        "code generation and implementation", "code review and refactoring", "test writing and validation",
        "debugging and issue fixing", "prototype development and delivery"),
    "Systems & Infrastructure": (
        "system status inspection and automated handling", "environment configuration and deployment",
        "DevOps and continuous delivery", "incident response and reliability", "device and system control"),
    "Planning & Knowledge Organization": (
        "task planning and decomposition", "solution and architecture design", "curriculum and content design",
        "memory and knowledge organization"),
    "Reasoning & Professional Domains": (
        "scientific and engineering analysis", "algorithm design and problem solving",
        "legal and compliance review", "medical and health analysis", "security and risk assessment"),
}

OPERATION_CATEGORIES: dict[str, tuple[str, ...]] = {
    "web_retrieval": ("search_results", "extract_webpage", "download_resource"),
    "file_content": ("read_extract", "write_structured", "edit_document"),
    "system_env": ("inspect_directory", "organize_files", "archive_files", "update_config"),
    "data_analysis": ("extract_records", "filter_rank", "aggregate_stats", "join_enrich", "clean_dedupe"),
    "communication": ("draft_message", "rewrite_message", "action_items", "status_report"),
    "development": ("run_script", "inspect_code", "fix_bug", "run_tests", "analyze_logs"),
    "planning_knowledge": ("schedule_plan", "organize_knowledge"),
}

OPERATION_CATEGORY_NAMES = {
    "web_retrieval": "Web Information Retrieval (offline equivalents)",
    "file_content": "File and Content Handling",
    "system_env": "System and Environment Operations",
    "data_analysis": "Data Extraction and Analysis",
    "communication": "Communication and Coordination",
    "development": "Development and Execution",
    "planning_knowledge": "Planning and Knowledge Organization",
}

# Which operation categories a scenario category leans on when choosing the first step.
PREFERRED_OPS: dict[str, tuple[str, ...]] = {
    "Office & Daily Tasks": ("file_content", "communication", "planning_knowledge", "data_analysis"),
    "Communication & Collaboration": ("communication", "file_content", "web_retrieval"),
    "Information Retrieval & Research": ("web_retrieval", "data_analysis", "file_content"),
    "Analysis & Decision Support": ("data_analysis", "file_content", "web_retrieval"),
    "Automation & Workflows": ("system_env", "development", "data_analysis"),
    "Software Development": ("development", "system_env"),
    "Systems & Infrastructure": ("system_env", "development", "data_analysis"),
    "Planning & Knowledge Organization": ("planning_knowledge", "file_content", "communication"),
    "Reasoning & Professional Domains": ("data_analysis", "development", "web_retrieval", "file_content"),
}

# builtin-v2: the operations that fit each subcategory. The first step is one of them that can start
# a chain, and later steps prefer them (see compose), so an e-mail task handles messages and a
# debugging task fixes code, instead of only the category steering the first step.
SUBCATEGORY_OPS: dict[str, tuple[str, ...]] = {
    "document writing and editing": ("edit_document", "rewrite_message", "write_structured", "status_report", "read_extract"),
    "meeting notes and summaries": ("action_items", "status_report", "draft_message", "edit_document"),
    "table and record handling": ("read_extract", "clean_dedupe", "extract_records", "filter_rank", "join_enrich",
                                  "write_structured"),
    "schedule, task and meeting management": ("schedule_plan", "action_items", "draft_message"),
    "translation and text assistance": ("rewrite_message", "edit_document", "draft_message"),
    "general content writing": ("edit_document", "rewrite_message", "draft_message", "status_report"),
    "marketing and social content": ("extract_webpage", "search_results", "rewrite_message", "draft_message",
                                     "filter_rank"),
    "SEO and page optimization": ("extract_webpage", "search_results", "edit_document", "filter_rank", "write_structured"),
    "email and message handling": ("rewrite_message", "draft_message", "action_items"),
    "notifications, reminders and follow-up": ("action_items", "schedule_plan", "draft_message", "filter_rank"),
    "team collaboration and synchronization": ("action_items", "organize_files", "organize_knowledge", "status_report",
                                               "draft_message"),
    "information search and lookup": ("search_results", "read_extract", "filter_rank", "write_structured"),
    "web collection and scraping": ("extract_webpage", "download_resource", "search_results", "clean_dedupe",
                                    "write_structured"),
    "research and information synthesis": ("search_results", "download_resource", "aggregate_stats", "status_report",
                                           "organize_knowledge"),
    "fact-checking, critique and verification": ("extract_webpage", "read_extract", "join_enrich", "edit_document"),
    "knowledge retrieval and grounding": ("organize_knowledge", "read_extract", "search_results", "write_structured"),
    "data analysis, calculation and logical reasoning": ("read_extract", "extract_records", "aggregate_stats",
                                                         "filter_rank", "join_enrich"),
    "classification, ranking and scoring": ("read_extract", "clean_dedupe", "filter_rank", "join_enrich", "status_report"),
    "trend monitoring and detection": ("download_resource", "extract_records", "analyze_logs", "aggregate_stats",
                                       "filter_rank"),
    "transaction and financial analysis": ("read_extract", "clean_dedupe", "aggregate_stats", "join_enrich",
                                           "status_report"),
    "lifestyle decision support": ("search_results", "extract_webpage", "filter_rank", "draft_message"),
    "scheduled task execution": ("run_script", "archive_files", "organize_files", "update_config"),
    "event-triggered automation": ("analyze_logs", "run_script", "draft_message", "organize_files"),
    "task routing and orchestration": ("schedule_plan", "join_enrich", "organize_files", "action_items"),
    "code generation and implementation": ("fix_bug", "run_script", "inspect_code", "run_tests"),
    "code review and refactoring": ("inspect_code", "fix_bug", "draft_message", "status_report"),
    "test writing and validation": ("run_tests", "fix_bug", "status_report"),
    "debugging and issue fixing": ("fix_bug", "analyze_logs", "run_tests", "draft_message"),
    "prototype development and delivery": ("run_script", "fix_bug", "archive_files", "update_config"),
    "system status inspection and automated handling": ("inspect_directory", "analyze_logs", "run_script",
                                                        "archive_files"),
    "environment configuration and deployment": ("update_config", "run_script", "archive_files"),
    "DevOps and continuous delivery": ("run_tests", "update_config", "archive_files", "run_script"),
    "incident response and reliability": ("analyze_logs", "draft_message", "status_report", "filter_rank"),
    "device and system control": ("inspect_directory", "organize_files", "update_config", "archive_files"),
    "task planning and decomposition": ("schedule_plan", "action_items", "status_report"),
    "solution and architecture design": ("inspect_code", "update_config", "write_structured", "edit_document"),
    "curriculum and content design": ("schedule_plan", "organize_knowledge", "edit_document", "write_structured"),
    "memory and knowledge organization": ("organize_knowledge", "organize_files", "inspect_directory", "archive_files"),
    "scientific and engineering analysis": ("read_extract", "download_resource", "aggregate_stats", "clean_dedupe",
                                            "run_script"),
    "algorithm design and problem solving": ("schedule_plan", "fix_bug", "run_tests", "run_script"),
    "legal and compliance review": ("edit_document", "read_extract", "inspect_directory", "write_structured"),
    "medical and health analysis": ("read_extract", "clean_dedupe", "aggregate_stats", "filter_rank"),
    "security and risk assessment": ("analyze_logs", "inspect_directory", "inspect_code", "filter_rank"),
}

SUBCATEGORIES: tuple[tuple[str, str], ...] = tuple((c, s) for c, subs in SCENARIOS.items() for s in subs)
OPERATIONS: tuple[str, ...] = tuple(op for ops in OPERATION_CATEGORIES.values() for op in ops)

# Seed subcategory (category2.json) -> our subcategory. Merged pairs point to the same target.
SCENARIO_FROM_SEEDS: dict[str, str] = {
    "document writing and editing": "document writing and editing",
    "meeting notes and summaries": "meeting notes and summaries",
    "table and record handling": "table and record handling",
    "schedule and task management": "schedule, task and meeting management",
    "meeting coordination and scheduling": "schedule, task and meeting management",
    "translation and text assistance": "translation and text assistance",
    "general content writing": "general content writing",
    "marketing content planning": "marketing and social content",
    "social content creation": "marketing and social content",
    "SEO and page optimization": "SEO and page optimization",
    "email and communication writing": "email and message handling",
    "message and email handling": "email and message handling",
    "notifications, reminders, and follow-up": "notifications, reminders and follow-up",
    "team collaboration and synchronization": "team collaboration and synchronization",
    "information search and lookup": "information search and lookup",
    "web collection and scraping": "web collection and scraping",
    "research and information synthesis": "research and information synthesis",
    "information synthesis and summarization": "research and information synthesis",
    "fact-checking and verification": "fact-checking, critique and verification",
    "critique, review, and judgment": "fact-checking, critique and verification",
    "knowledge retrieval and grounding": "knowledge retrieval and grounding",
    "data analysis and calculation": "data analysis, calculation and logical reasoning",
    "mathematical and logical reasoning": "data analysis, calculation and logical reasoning",
    "classification, ranking, and scoring": "classification, ranking and scoring",
    "trend monitoring and detection": "trend monitoring and detection",
    "transaction and financial analysis": "transaction and financial analysis",
    "financial analysis and support": "transaction and financial analysis",
    "lifestyle decision support": "lifestyle decision support",
    "scheduled task execution": "scheduled task execution",
    "event-triggered automation": "event-triggered automation",
    "automated inspection and handling": "system status inspection and automated handling",
    "task routing and orchestration": "task routing and orchestration",
    "code generation and implementation": "code generation and implementation",
    "code review and refactoring": "code review and refactoring",
    "test writing and validation": "test writing and validation",
    "debugging and issue fixing": "debugging and issue fixing",
    "prototype development and delivery": "prototype development and delivery",
    "system status inspection": "system status inspection and automated handling",
    "environment configuration and deployment": "environment configuration and deployment",
    "DevOps and continuous delivery": "DevOps and continuous delivery",
    "incident response and reliability": "incident response and reliability",
    "device and system control": "device and system control",
    "task planning and decomposition": "task planning and decomposition",
    "solution and architecture design": "solution and architecture design",
    "curriculum and content design": "curriculum and content design",
    "memory and knowledge organization": "memory and knowledge organization",
    "scientific and engineering analysis": "scientific and engineering analysis",
    "algorithm design and problem solving": "algorithm design and problem solving",
    "legal and compliance review": "legal and compliance review",
    "medical and health analysis": "medical and health analysis",
    "security and risk assessment": "security and risk assessment",
}

# Seed action (action2-remove.json) -> our operation; the 7 operations not listed here are ours.
OPERATION_FROM_SEEDS: dict[str, str] = {
    "perform search engine queries from the Internet": "search_results",
    "download and extract webpage content from the Internet": "extract_webpage",
    "download remote resources from the Internet": "download_resource",
    "read local files and extract relevant content": "read_extract",
    "write structured results to local files": "write_structured",
    "edit or rewrite existing local documents": "edit_document",
    "inspect files and directories": "inspect_directory",
    "extract structured data from files or web content": "extract_records",
    "filter, sort, and rank records": "filter_rank",
    "compute basic statistics and aggregates": "aggregate_stats",
    "draft emails or messages": "draft_message",
    "rewrite messages for tone, clarity, or brevity": "rewrite_message",
    "prepare meeting notes or action items": "action_items",
    "compose updates, reports, or status summaries": "status_report",
    "run scripts or command-line programs": "run_script",
    "inspect code or configuration files": "inspect_code",
    "modify code or configuration files": "fix_bug",
    "run tests or validation commands": "run_tests",
    "analyze command output or error messages": "analyze_logs",
}
ADDED_OPERATIONS = ("organize_files", "archive_files", "update_config", "join_enrich", "clean_dedupe",
                    "schedule_plan", "organize_knowledge")

assert len(SCENARIOS) == 9 and len(SUBCATEGORIES) == 43, (len(SCENARIOS), len(SUBCATEGORIES))
assert len(OPERATION_CATEGORIES) == 7 and len(OPERATIONS) == 26, (len(OPERATION_CATEGORIES), len(OPERATIONS))
assert set(SCENARIO_FROM_SEEDS.values()) == {s for _, s in SUBCATEGORIES} and len(SCENARIO_FROM_SEEDS) == 51
assert set(OPERATION_FROM_SEEDS.values()) | set(ADDED_OPERATIONS) == set(OPERATIONS)
assert set(SUBCATEGORY_OPS) == {s for _, s in SUBCATEGORIES} and set().union(*SUBCATEGORY_OPS.values()) == set(OPERATIONS)


def operation_category(op: str) -> str:
    for cat, ops in OPERATION_CATEGORIES.items():
        if op in ops:
            return cat
    raise KeyError(op)
