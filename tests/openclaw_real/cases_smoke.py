"""A few calls of every tool family, so a broken harness shows at once."""

from openclaw_real.cases import one

CASES = [
    one("smoke.read", "read", {"path": "a.txt"}, files={"a.txt": "hello\n"}),
    one("smoke.write", "write", {"path": "b.txt", "content": "x"}),
    one("smoke.exec", "exec", {"command": "echo hi; cat a.txt"}, files={"a.txt": "hello\n"}),
    one("smoke.unknown_tool", "nope", {}),
    one("smoke.edit_legacy", "edit", {"path": "a.txt", "oldText": "hello", "newText": "bye"}, files={"a.txt": "hello\n"}),
    one("smoke.edit_edits", "edit", {"path": "a.txt", "edits": [{"oldText": "hello", "newText": "bye"}]},
        files={"a.txt": "hello\n"}),
]
