"""edit: the legacy oldText/newText form (3.24's schema) and edits[] (4.1's), each sent to both versions;
aliases, blank and missing texts, not found (with the 800-char hint), duplicates, no-change, overlaps,
fuzzy matching (NFKC, trailing whitespace, smart quotes, dashes, odd spaces), CRLF and BOM, paths."""

from __future__ import annotations

from typing import Any

from openclaw_real.cases import Call, Case, one

V324, V41 = ("2026.3.24",), ("2026.4.1",)
PY = "def f():\n    return 1\n\ndef g():\n    return 2\n"


def _e(case_id: str, args: dict[str, Any] | str, files: dict[str, str | bytes] | None = None, **kw: Any) -> Case:
    return one(case_id, "edit", args, files=files if files is not None else {"a.py": PY}, **kw)


def _legacy(old: str, new: str, path: str = "a.py", **extra: Any) -> dict[str, Any]:
    return {"path": path, "oldText": old, "newText": new, **extra}


def _edits(*pairs: tuple[str, str], path: str = "a.py", **extra: Any) -> dict[str, Any]:
    return {"path": path, "edits": [{"oldText": o, "newText": n} for o, n in pairs], **extra}


_LONG = "".join(f"line {i:03d} of a long file\n" for i in range(60))
_FUZZY = "say(\u201chello\u201d)  \nit\u2019s \u2014 done\u00a0now\nx = \uff11\n"

CASES = [
    # ---- the legacy form
    _e("edit.legacy.ok", _legacy("return 1", "return 10")),
    _e("edit.legacy.multiline", _legacy("def f():\n    return 1\n", "def f():\n    return 3\n")),
    _e("edit.legacy.delete", _legacy("\ndef g():\n    return 2\n", "")),
    _e("edit.legacy.alias_old_string", {"file_path": "a.py", "old_string": "return 2", "new_string": "return 20"}),
    _e("edit.legacy.alias_old_text", {"path": "a.py", "old_text": "return 2", "new_text": "return 21"}),
    _e("edit.legacy.alias_oldString", {"filePath": "a.py", "oldString": "return 2", "newString": "return 22"}),
    _e("edit.legacy.alias_file", {"file": "a.py", "oldText": "return 2", "newText": "return 23"}),
    _e("edit.legacy.canonical_wins", {"path": "a.py", "oldText": "return 1", "old_string": "return 2", "newText": "X"}),
    _e("edit.legacy.missing_old", {"path": "a.py", "newText": "x"}),
    _e("edit.legacy.missing_new", {"path": "a.py", "oldText": "return 1"}),
    _e("edit.legacy.missing_path", {"oldText": "return 1", "newText": "x"}),
    _e("edit.legacy.missing_all", {}),
    _e("edit.legacy.blank_old", _legacy("   ", "x")),
    _e("edit.legacy.empty_old", _legacy("", "x")),
    _e("edit.legacy.empty_new", _legacy("    return 1\n", "")),
    _e("edit.legacy.not_found", _legacy("return 3", "x")),
    _e("edit.legacy.not_found_long_hint", _legacy("nope", "x"), files={"a.py": _LONG}),
    _e("edit.legacy.not_found_800_exact", _legacy("nope", "x"), files={"a.py": "a" * 799 + "\n"}),
    _e("edit.legacy.not_found_801", _legacy("nope", "x"), files={"a.py": "b" * 801}),
    _e("edit.legacy.not_found_surrogate_cut", _legacy("nope", "x"), files={"a.py": "c" * 799 + "😀tail"}),
    _e("edit.legacy.not_found_empty_file", _legacy("x", "y"), files={"a.py": ""}),
    _e("edit.legacy.duplicate", _legacy("return", "yield")),
    _e("edit.legacy.duplicate_three", _legacy("x", "y"), files={"a.py": "x x x\n"}),
    _e("edit.legacy.no_change", _legacy("return 1", "return 1")),
    _e("edit.legacy.file_not_found", _legacy("a", "b", path="nope.py")),
    _e("edit.legacy.directory", _legacy("a", "b", path="sub"), files={"sub/x": "a"}),
    _e("edit.legacy.null_byte", _legacy("a", "b", path="a\u0000.py")),
    _e("edit.legacy.absolute_missing", _legacy("a", "b", path="/nonexistent/dir/f.py")),
    _e("edit.legacy.at_prefix", _legacy("return 1", "return 5", path="@a.py")),
    _e("edit.legacy.nested_path", _legacy("v = 1", "v = 2", path="pkg/mod/c.py"), files={"pkg/mod/c.py": "v = 1\n"}),
    _e("edit.legacy.crlf", _legacy("b", "B"), files={"a.py": "a\r\nb\r\nc\r\n"}),
    _e("edit.legacy.crlf_multiline_old", _legacy("a\nb", "A\nB"), files={"a.py": "a\r\nb\r\nc\r\n"}),
    _e("edit.legacy.crlf_old_given_crlf", _legacy("a\r\nb", "x"), files={"a.py": "a\r\nb\r\n"}),
    _e("edit.legacy.mixed_endings", _legacy("b", "B"), files={"a.py": "a\nb\r\nc\n"}),
    _e("edit.legacy.lone_cr", _legacy("b", "B"), files={"a.py": "a\rb\rc"}),
    _e("edit.legacy.bom", _legacy("hello", "bye"), files={"a.py": b"\xef\xbb\xbfhello\n"}),
    _e("edit.legacy.bom_crlf", _legacy("two", "2"), files={"a.py": b"\xef\xbb\xbfone\r\ntwo\r\n"}),
    _e("edit.legacy.fuzzy_smart_quotes", _legacy('say("hello")', 'say("bye")'), files={"a.py": _FUZZY}),
    _e("edit.legacy.fuzzy_trailing_ws", _legacy('say(\u201chello\u201d)\nit', "Z"), files={"a.py": _FUZZY}),
    _e("edit.legacy.fuzzy_dash", _legacy("it's - done", "ok"), files={"a.py": _FUZZY}),
    _e("edit.legacy.fuzzy_nbsp", _legacy("done now", "later"), files={"a.py": _FUZZY}),
    _e("edit.legacy.fuzzy_nfkc", _legacy("x = 1", "x = 2"), files={"a.py": _FUZZY}),
    _e("edit.legacy.fuzzy_duplicate", _legacy("'q'", "r"), files={"a.py": "\u2018q\u2019 and 'q'\n"}),
    _e("edit.legacy.fuzzy_no_change", _legacy("it's", "it's"), files={"a.py": "it\u2019s\n"}),
    _e("edit.legacy.unicode_content", _legacy("héllo", "wörld"), files={"a.py": "héllo 😀\n"}),
    _e("edit.legacy.new_has_crlf", _legacy("return 1", "a\r\nb")),
    _e("edit.legacy.dollar_patterns", _legacy("return 1", "return '$&$1$$'")),
    _e("edit.legacy.non_string_new", {"path": "a.py", "oldText": "return 1", "newText": 5}),
    _e("edit.legacy.non_string_old", {"path": "a.py", "oldText": 1, "newText": "x"}),
    _e("edit.legacy.extra_key", _legacy("return 1", "return 4", replace_all=True)),
    _e("edit.legacy.args_string", '{"path": "a.py", "oldText": "return 1", "newText": "return 6"}'),
    _e("edit.legacy.both_forms", {"path": "a.py", "oldText": "return 1", "newText": "return 7",
                                  "edits": [{"oldText": "return 2", "newText": "return 8"}]}),
    # ---- edits[]
    _e("edit.edits.one", _edits(("return 1", "return 11"))),
    _e("edit.edits.two", _edits(("return 1", "return 11"), ("return 2", "return 22"))),
    _e("edit.edits.reverse_order", _edits(("return 2", "B"), ("return 1", "A"))),
    _e("edit.edits.three", _edits(("def f", "def F"), ("def g", "def G"), ("return 2", "return 0"))),
    _e("edit.edits.empty", {"path": "a.py", "edits": []}),
    _e("edit.edits.string", {"path": "a.py", "edits": "oops"}),
    _e("edit.edits.null", {"path": "a.py", "edits": None}),
    _e("edit.edits.object", {"path": "a.py", "edits": {"oldText": "return 1", "newText": "x"}}),
    _e("edit.edits.entry_string", {"path": "a.py", "edits": ["return 1"]}),
    _e("edit.edits.entry_alias_keys", {"path": "a.py", "edits": [{"old_string": "return 1", "new_string": "x"}]}),
    _e("edit.edits.entry_missing_new", {"path": "a.py", "edits": [{"oldText": "return 1"}]}),
    _e("edit.edits.entry_extra_key", {"path": "a.py", "edits": [{"oldText": "return 1", "newText": "x", "all": True}]}),
    _e("edit.edits.entry_blank_old", _edits(("  ", "x"))),
    _e("edit.edits.entry_blank_with_valid", _edits(("", "x"), ("return 1", "return 9"))),
    _e("edit.edits.entry_number_new", {"path": "a.py", "edits": [{"oldText": "return 1", "newText": 3}]}),
    _e("edit.edits.not_found_single", _edits(("return 9", "x"))),
    _e("edit.edits.not_found_second", _edits(("return 1", "x"), ("return 9", "y"))),
    _e("edit.edits.duplicate_single", _edits(("return", "x"))),
    _e("edit.edits.duplicate_second", _edits(("def f", "x"), ("return", "y"))),
    _e("edit.edits.overlap", _edits(("def f():\n    return 1", "x"), ("return 1\n\ndef g", "y"))),
    _e("edit.edits.nested", _edits(("def f():\n    return 1\n", "x"), ("return 1", "y"))),
    _e("edit.edits.adjacent", _edits(("def f():", "F"), ("\n    return 1", "R"))),
    _e("edit.edits.no_change_single", _edits(("return 1", "return 1"))),
    _e("edit.edits.no_change_many", _edits(("return 1", "return 1"), ("return 2", "return 2"))),
    _e("edit.edits.partial_no_change", _edits(("return 1", "return 1"), ("return 2", "return 3"))),
    _e("edit.edits.sequential_not_incremental", _edits(("return 1", "return 2"), ("return 2", "return 3"))),
    _e("edit.edits.fuzzy_one", _edits(('say("hello")', 'say("bye")'), ("x = 1", "x = 2")), files={"a.py": _FUZZY}),
    _e("edit.edits.fuzzy_normalizes_whole_file", _edits(("x = 1", "x = 2"), ("said", "told")),
       files={"a.py": "x = \uff11\nsaid \u201cno\u201d  \n"}),
    _e("edit.edits.crlf", _edits(("a", "A"), ("c", "C")), files={"a.py": "a\r\nb\r\nc\r\n"}),
    _e("edit.edits.bom", _edits(("one", "1"), ("two", "2")), files={"a.py": b"\xef\xbb\xbfone\ntwo\n"}),
    _e("edit.edits.file_not_found", _edits(("a", "b"), path="missing.py")),
    _e("edit.edits.directory", _edits(("a", "b"), path="sub"), files={"sub/x": "a"}),
    _e("edit.edits.missing_path", {"edits": [{"oldText": "a", "newText": "b"}]}),
    _e("edit.edits.alias_path", {"file_path": "a.py", "edits": [{"oldText": "return 1", "newText": "X"}]}),
    _e("edit.edits.not_found_hint", _edits(("zzz", "x"), ("return 1", "y")), files={"a.py": _LONG + "return 1\n"}),
    _e("edit.edits.with_top_level_pair", {"path": "a.py", "edits": [{"oldText": "return 1", "newText": "A"}],
                                          "oldText": "return 2", "newText": "B"}),
    _e("edit.edits.with_top_level_alias", {"path": "a.py", "edits": [{"oldText": "return 1", "newText": "A"}],
                                           "old_string": "return 2", "new_string": "B"}),
    _e("edit.edits.args_string", '{"path": "a.py", "edits": [{"oldText": "return 2", "newText": "two"}]}'),
    _e("edit.edits.args_string_partial", '{"path": "a.py", "edits": [{"oldText": "return 2", "newText": "tw'),
    _e("edit.edits.many", {"path": "a.py", "edits": [{"oldText": f"line {i:03d} ", "newText": f"L{i} "}
                                                     for i in range(0, 60, 3)]}, files={"a.py": _LONG}),
    # ---- sequences
    Case("edit.seq.edit_then_read", (Call("edit", _legacy("return 1", "return 100")), Call("read", {"path": "a.py"})),
         files={"a.py": PY}, versions=V324),
    Case("edit.seq.edits_then_read", (Call("edit", _edits(("return 1", "one"), ("return 2", "two"))),
                                       Call("read", {"path": "a.py"})), files={"a.py": PY}, versions=V41),
    Case("edit.seq.twice_same", (Call("edit", _legacy("return 1", "return 2")), Call("edit", _legacy("return 2", "x"))),
         files={"a.py": PY}, versions=V324),
    Case("edit.seq.write_then_edit", (Call("write", {"path": "n.txt", "content": "alpha beta\n"}),
                                       Call("edit", {"path": "n.txt", "edits": [{"oldText": "beta", "newText": "gamma"}]})),
         versions=V41),
]

KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {}
