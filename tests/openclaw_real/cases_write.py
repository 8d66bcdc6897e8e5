"""write: path aliases, missing or blank content/path, nested and existing folders, overwrites, byte
counts (UTF-16 units, as JS counts them), odd paths and contents."""

from __future__ import annotations

from openclaw_real.cases import Call, Case, one


def _w(case_id: str, args: dict | str, files: dict[str, str | bytes] | None = None, **kw: object) -> Case:
    return one(case_id, "write", args, files=files or {}, **kw)  # type: ignore[arg-type]


CASES = [
    _w("write.simple", {"path": "a.txt", "content": "hello\n"}),
    _w("write.no_newline", {"path": "a.txt", "content": "x"}),
    _w("write.alias.file_path", {"file_path": "a.txt", "content": "fp\n"}),
    _w("write.alias.filePath", {"filePath": "a.txt", "content": "fP\n"}),
    _w("write.alias.file", {"file": "a.txt", "content": "f\n"}),
    _w("write.alias.path_wins", {"path": "a.txt", "file_path": "b.txt", "content": "which\n"}),
    _w("write.missing_content", {"path": "a.txt"}),
    _w("write.missing_path", {"content": "x"}),
    _w("write.missing_both", {}),
    _w("write.empty_content", {"path": "a.txt", "content": ""}),
    _w("write.blank_content", {"path": "a.txt", "content": "  \n\t"}),
    _w("write.blank_path", {"path": "  ", "content": "x"}),
    _w("write.content_number", {"path": "a.txt", "content": 42}),
    _w("write.content_bool", {"path": "a.txt", "content": True}),
    _w("write.content_null", {"path": "a.txt", "content": None}),
    _w("write.content_object", {"path": "a.txt", "content": {"k": 1}}),
    _w("write.content_list", {"path": "a.txt", "content": ["a", "b"]}),
    _w("write.path_number", {"path": 7, "content": "x"}),
    _w("write.nested_dirs", {"path": "a/b/c/d.txt", "content": "deep\n"}),
    _w("write.existing_dir_parent", {"path": "sub/new.txt", "content": "n\n"}, files={"sub/old.txt": "o"}),
    _w("write.overwrite", {"path": "a.txt", "content": "new\n"}, files={"a.txt": "old content that is longer\n"}),
    _w("write.overwrite_bom_file", {"path": "a.txt", "content": "plain\n"}, files={"a.txt": b"\xef\xbb\xbfold\n"}),
    _w("write.onto_directory", {"path": "sub", "content": "x"}, files={"sub/f": "1"}),
    _w("write.parent_is_file", {"path": "f.txt/child.txt", "content": "x"}, files={"f.txt": "1"}),
    _w("write.grandparent_is_file", {"path": "f.txt/a/b.txt", "content": "x"}, files={"f.txt": "1"}),
    _w("write.null_byte", {"path": "a\u0000.txt", "content": "x"}),
    _w("write.null_byte_dir", {"path": "d\u0000/a.txt", "content": "x"}),
    _w("write.utf16_count_emoji", {"path": "e.txt", "content": "😀😀 ok\n"}),
    _w("write.utf16_count_accents", {"path": "e.txt", "content": "héllo wörld — ñ\n"}),
    _w("write.utf16_count_cjk", {"path": "e.txt", "content": "日本語テキスト\n"}),
    _w("write.lone_surrogate", '{"path": "s.txt", "content": "a\\ud800b"}'),
    _w("write.crlf_content", {"path": "c.txt", "content": "a\r\nb\r\n"}),
    _w("write.nul_in_content", {"path": "n.txt", "content": "a\u0000b"}),
    _w("write.large", {"path": "big.txt", "content": "0123456789" * 20000}),
    _w("write.at_prefix", {"path": "@at.txt", "content": "at\n"}),
    _w("write.dotdot_inside", {"path": "sub/../up.txt", "content": "u\n"}, files={"sub/k": "k"}),
    _w("write.space_name", {"path": "my file.txt", "content": "s\n"}),
    _w("write.unicode_name", {"path": "dïr/ñame.txt", "content": "u\n"}),
    _w("write.nbsp_name", {"path": "my\u00a0file.txt", "content": "nb\n"}),
    _w("write.dotfile", {"path": ".hidden", "content": "h\n"}),
    _w("write.trailing_slash", {"path": "dir/", "content": "x"}),
    _w("write.extra_param", {"path": "a.txt", "content": "x", "mode": "append"}),
    _w("write.args_string", '{"path": "j.txt", "content": "from json\\n"}'),
    _w("write.args_partial", '{"path": "p.txt", "content": "cut off mid'),
    _w("write.args_invalid", "not json at all"),
    _w("write.content_json_text", {"path": "c.json", "content": '{"a": [1, 2, {"b": null}]}\n'}),
    Case("write.then_read", (Call("write", {"path": "r.txt", "content": "one\ntwo\n"}), Call("read", {"path": "r.txt"}))),
    Case("write.twice", (Call("write", {"path": "r.txt", "content": "first\n"}),
                         Call("write", {"path": "r.txt", "content": "second\n"}))),
]

KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {}
