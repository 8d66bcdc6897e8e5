"""read / write / edit against a real bwrap sandbox; expected texts are OpenClaw 2026.3.24's (edits[]: 2026.4.1)."""

from __future__ import annotations

import base64

import pytest

from clawgym_env.sandbox import ServerSandbox
from clawgym_env.tools.context import ToolContext, ToolError
from clawgym_env.tools.fs import edit_tool, read_tool, write_tool
from clawgym_env.tools.images import ToolOutput
from clawgym_env.tools.toolbox import ToolBox

WS = "/root/.openclaw/workspace"
RETRY = " Supply correct parameters before retrying."
NOT_FOUND = "The old text must match exactly including all whitespace and newlines."


@pytest.fixture
def ctx(sandbox: ServerSandbox) -> ToolContext:
    return ToolContext(sandbox=sandbox, workspace=sandbox.workspace)


def put(ctx: ToolContext, name: str, data: bytes | str) -> None:
    ctx.sandbox.write_file(f"{WS}/{name}", data.encode() if isinstance(data, str) else data)


def get(ctx: ToolContext, name: str) -> bytes:
    return ctx.sandbox.read_file(f"{WS}/{name}")


def error_of(fn, ctx: ToolContext, **args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ToolError) as info:
        fn(ctx, args)
    return info.value.message


# ---------------------------------------------------------------- write


def test_write_counts_utf16_units_and_creates_parents(ctx: ToolContext) -> None:
    text = "héllo 😀\n"
    assert write_tool(ctx, {"path": "deep/er/x.txt", "content": text}) == "Successfully wrote 9 bytes to deep/er/x.txt"
    assert get(ctx, "deep/er/x.txt") == text.encode()


def test_write_path_aliases_and_home(ctx: ToolContext) -> None:
    assert write_tool(ctx, {"file_path": "a.txt", "content": "x"}) == "Successfully wrote 1 bytes to a.txt"
    assert write_tool(ctx, {"path": "~/.openclaw/workspace/b.txt", "content": "y"}) == \
        "Successfully wrote 1 bytes to ~/.openclaw/workspace/b.txt"
    assert get(ctx, "b.txt") == b"y"


def test_write_missing_parameters(ctx: ToolContext) -> None:
    assert error_of(write_tool, ctx, path="a.txt") == "Missing required parameter: content." + RETRY
    # OpenClaw requires non-blank content: an empty file cannot be written with this tool
    assert error_of(write_tool, ctx, path="a.txt", content="  \n") == "Missing required parameter: content." + RETRY
    assert error_of(write_tool, ctx, content="x", path="  ") == "Missing required parameter: path alias." + RETRY
    assert error_of(write_tool, ctx) == "Missing required parameters: path alias, content." + RETRY


def test_write_onto_a_directory_is_node_eisdir(ctx: ToolContext) -> None:
    put(ctx, "d/f", "x")
    assert error_of(write_tool, ctx, path="d", content="x") == f"EISDIR: illegal operation on a directory, open '{WS}/d'"
    assert error_of(write_tool, ctx, path="d/f/g", content="x") == f"EEXIST: file already exists, mkdir '{WS}/d/f'"


# ---------------------------------------------------------------- read


def test_read_returns_raw_text_with_trailing_newline(ctx: ToolContext) -> None:
    put(ctx, "a.txt", "one\ntwo\n")
    assert read_tool(ctx, {"path": "a.txt"}) == "one\ntwo\n"
    assert read_tool(ctx, {"file": f"{WS}/a.txt"}) == "one\ntwo\n"
    assert read_tool(ctx, {"path": "@a.txt"}) == "one\ntwo\n"


def test_read_missing_path_parameter(ctx: ToolContext) -> None:
    assert error_of(read_tool, ctx) == "Missing required parameter: path alias." + RETRY


def test_read_nonexistent_and_directory(ctx: ToolContext) -> None:
    assert error_of(read_tool, ctx, path="nope.txt") == f"ENOENT: no such file or directory, access '{WS}/nope.txt'"
    put(ctx, "d/x", "x")
    assert error_of(read_tool, ctx, path="d") == "EISDIR: illegal operation on a directory, read"
    assert error_of(read_tool, ctx, path="d/x/y") == f"ENOTDIR: not a directory, access '{WS}/d/x/y'"


def test_read_auto_pages_past_2000_lines(ctx: ToolContext) -> None:
    lines = [f"line {i}" for i in range(1, 2501)]
    put(ctx, "big.txt", "\n".join(lines))
    # two pages, joined with a blank line: OpenClaw's adaptive paging does exactly that
    assert read_tool(ctx, {"path": "big.txt"}) == "\n".join(lines[:2000]) + "\n\n" + "\n".join(lines[2000:])


def test_read_limit_and_offset_notices(ctx: ToolContext) -> None:
    lines = [f"line {i}" for i in range(1, 2501)]
    put(ctx, "big.txt", "\n".join(lines))
    assert read_tool(ctx, {"path": "big.txt", "offset": 5, "limit": 10}) == \
        "\n".join(lines[4:14]) + "\n\n[2486 more lines in file. Use offset=15 to continue.]"
    assert read_tool(ctx, {"path": "big.txt", "limit": 2100}) == \
        "\n".join(lines[:2000]) + "\n\n[Showing lines 1-2000 of 2500. Use offset=2001 to continue.]"
    assert read_tool(ctx, {"path": "big.txt", "offset": 2400}) == "\n".join(lines[2399:])
    assert error_of(read_tool, ctx, path="big.txt", offset=2501) == "Offset 2501 is beyond end of file (2500 lines total)"


def test_read_byte_limit_and_adaptive_cap(ctx: ToolContext) -> None:
    lines = ["x" * 99] * 2000  # 100 bytes a line: a 50KB page holds 512 of them
    put(ctx, "wide.txt", "\n".join(lines))
    page = "\n".join(lines[:512])
    assert read_tool(ctx, {"path": "wide.txt", "limit": 1000}) == \
        page + "\n\n[Showing lines 1-512 of 2000 (50.0KB limit). Use offset=513 to continue.]"
    # 64K-token context: cap = 65536*4*0.2 bytes = 51KB, so the second page does not fit
    assert read_tool(ctx, {"path": "wide.txt"}) == \
        page + "\n\n[Read output capped at 51KB for this call. Use offset=513 to continue.]"
    big = ToolContext(sandbox=ctx.sandbox, workspace=ctx.workspace, context_window_tokens=200_000)
    # 160000-byte cap: three pages fit (3 × 51199 + 2 × 2), the fourth does not
    assert read_tool(big, {"path": "wide.txt"}) == \
        "\n\n".join([page] * 3) + "\n\n[Read output capped at 156KB for this call. Use offset=1537 to continue.]"


def test_read_huge_first_line(ctx: ToolContext) -> None:
    put(ctx, "one.txt", "y" * 60000 + "\nshort\n")
    assert read_tool(ctx, {"path": "one.txt"}) == \
        "[Line 1 is 58.6KB, exceeds 50.0KB limit. Use bash: sed -n '1p' one.txt | head -c 51200]"
    assert read_tool(ctx, {"path": "one.txt", "offset": 2}) == "short\n"


def _img(size: tuple[int, int], fmt: str, color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def test_read_image_reports_mime_and_returns_the_image(ctx: ToolContext) -> None:
    put(ctx, "pic.png", _img((40, 30), "PNG"))
    put(ctx, "pic.gif", _img((24, 24), "GIF"))
    out = read_tool(ctx, {"path": "pic.png"})
    assert isinstance(out, ToolOutput) and out.text == "Read image file [image/png]"
    assert [i.mime_type for i in out.images] == ["image/png"]
    assert base64.b64decode(out.images[0].data) == get(ctx, "pic.png")  # small enough: sent as it is
    assert read_tool(ctx, {"path": "pic.gif"}).text == "Read image file [image/gif]"  # type: ignore[union-attr]


@pytest.mark.parametrize("version", ["2026.3.24", "2026.4.1"])
def test_read_large_image_gets_pi_dimension_note(sandbox: ServerSandbox, version: str) -> None:
    ctx = ToolContext(sandbox=sandbox, workspace=sandbox.workspace, openclaw_version=version)
    put(ctx, "big.png", _img((3000, 2200), "PNG"))
    out = read_tool(ctx, {"path": "big.png"})
    assert isinstance(out, ToolOutput)
    assert out.text == ("Read image file [image/png]\n[Image: original 3000x2200, displayed at 2000x1467. "
                        "Multiply coordinates by 1.50 to map to original image.]")
    # OpenClaw's sanitizer then re-encodes anything over 1200px as JPEG (the image part only)
    assert [i.mime_type for i in out.images] == ["image/jpeg"]


def test_read_corrupt_image_notes_per_version(ctx: ToolContext, ctx41: ToolContext) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\x00" * 17 + b"\x00\x00\x00\x00IDAT" + b"\x00" * 4
    put(ctx, "pic.png", png)
    # 3.24: pi keeps what it cannot decode, OpenClaw's sanitizer (sharp) then drops it with libvips's words
    assert read_tool(ctx, {"path": "pic.png"}).text == (  # type: ignore[union-attr]
        "Read image file [image/png]\n[read:pic.png] omitted image payload: Error: Input buffer has corrupt header: "
        "pngload_buffer: invalid image width")
    out = read_tool(ctx41, {"path": "pic.png"})
    assert isinstance(out, ToolOutput) and not out.images
    assert out.text == "Read image file [image/png]\n[Image omitted: could not be resized below the inline image size limit.]"


def test_toolbox_result_carries_image_parts(ctx: ToolContext) -> None:
    put(ctx, "pic.jpg", _img((80, 60), "JPEG"))
    result = ToolBox(ctx, "coding").call("read", {"path": "pic.jpg"})
    assert result.ok and result.text == "Read image file [image/jpeg]"
    assert [i.mime_type for i in result.images] == ["image/jpeg"]
    assert ToolBox(ctx, "coding").call("write", {"path": "t.txt", "content": "x"}).images == []


# ---------------------------------------------------------------- edit (3.24: oldText/newText)


def test_edit_success_and_aliases(ctx: ToolContext) -> None:
    put(ctx, "a.py", "x = 1\ny = 2\n")
    assert edit_tool(ctx, {"path": "a.py", "oldText": "y = 2", "newText": "y = 3"}) == "Successfully replaced text in a.py."
    assert edit_tool(ctx, {"file_path": "a.py", "old_string": "x = 1\n", "new_string": ""}) == \
        "Successfully replaced text in a.py."
    assert get(ctx, "a.py") == b"y = 3\n"


def test_edit_preserves_crlf_and_bom(ctx: ToolContext) -> None:
    put(ctx, "w.txt", b"\xef\xbb\xbfa\r\nb\r\nc\r\n")
    assert edit_tool(ctx, {"path": "w.txt", "oldText": "b\nc", "newText": "B\nC"}) == "Successfully replaced text in w.txt."
    assert get(ctx, "w.txt") == b"\xef\xbb\xbfa\r\nB\r\nC\r\n"


def test_edit_fuzzy_match_normalizes_file(ctx: ToolContext) -> None:
    put(ctx, "q.txt", "say \u201chi\u201d   \nnext\u2014line\n")
    assert edit_tool(ctx, {"path": "q.txt", "oldText": 'say "hi"\nnext-line', "newText": "done"}) == \
        "Successfully replaced text in q.txt."
    assert get(ctx, "q.txt") == b"done\n"


def test_edit_not_found_appends_current_contents(ctx: ToolContext) -> None:
    put(ctx, "a.txt", "alpha\n")
    assert error_of(edit_tool, ctx, path="a.txt", oldText="beta", newText="x") == \
        f"Could not find the exact text in a.txt. {NOT_FOUND}\nCurrent file contents:\nalpha\n"
    put(ctx, "long.txt", "z" * 900)
    assert error_of(edit_tool, ctx, path="long.txt", oldText="beta", newText="x") == \
        f"Could not find the exact text in long.txt. {NOT_FOUND}\nCurrent file contents:\n{'z' * 800}\n... (truncated)"


def test_edit_not_unique_no_change_and_missing_file(ctx: ToolContext) -> None:
    put(ctx, "a.txt", "dup\ndup\nsame\n")
    assert error_of(edit_tool, ctx, path="a.txt", oldText="dup", newText="x") == (
        "Found 2 occurrences of the text in a.txt. The text must be unique. "
        "Please provide more context to make it unique.")
    assert error_of(edit_tool, ctx, path="a.txt", oldText="same", newText="same") == (
        "No changes made to a.txt. The replacement produced identical content. "
        "This might indicate an issue with special characters or the text not existing as expected.")
    assert error_of(edit_tool, ctx, path="gone.txt", oldText="a", newText="b") == "File not found: gone.txt"
    assert error_of(edit_tool, ctx, path="a.txt", newText="b") == "Missing required parameter: oldText alias." + RETRY
    assert error_of(edit_tool, ctx) == "Missing required parameters: path alias, oldText alias, newText alias." + RETRY


# ---------------------------------------------------------------- edit (4.1: edits[])


@pytest.fixture
def ctx41(sandbox: ServerSandbox) -> ToolContext:
    return ToolContext(sandbox=sandbox, workspace=sandbox.workspace, openclaw_version="2026.4.1")


def test_edits_array_is_ignored_by_3_24(ctx: ToolContext) -> None:
    put(ctx, "c.txt", "one\n")
    assert error_of(edit_tool, ctx, path="c.txt", edits=[{"oldText": "one", "newText": "1"}]) == \
        "Missing required parameters: oldText alias, newText alias." + RETRY
    # with a top-level pair beside it, 3.24 applies only that pair
    assert edit_tool(ctx, {"path": "c.txt", "edits": [{"oldText": "one", "newText": "1"}], "oldText": "one",
                           "newText": "uno"}) == "Successfully replaced text in c.txt."
    assert get(ctx, "c.txt") == b"uno\n"


def test_edits_array_replaces_blocks(ctx41: ToolContext) -> None:
    ctx = ctx41
    put(ctx, "c.txt", "one\ntwo\nthree\n")
    args = {"path": "c.txt", "edits": [{"oldText": "three", "newText": "3"}, {"old_string": "one", "new_string": "1"}]}
    assert edit_tool(ctx, args) == "Successfully replaced 2 block(s) in c.txt."
    assert get(ctx, "c.txt") == b"1\ntwo\n3\n"
    # a legacy top-level pair is folded in after the array entries
    assert edit_tool(ctx, {"path": "c.txt", "edits": [], "oldText": "two", "newText": "2"}) == \
        "Successfully replaced 1 block(s) in c.txt."


def test_edits_array_errors(ctx41: ToolContext) -> None:
    ctx = ctx41
    put(ctx, "c.txt", "one\ntwo\ntwo\nthree\n")
    assert error_of(edit_tool, ctx, path="c.txt", edits=[{"oldText": "one", "newText": "1"},
                                                        {"oldText": "four", "newText": "4"}]) == \
        "Could not find edits[1] in c.txt. The oldText must match exactly including all whitespace and newlines."
    assert error_of(edit_tool, ctx, path="c.txt", edits=[{"oldText": "two", "newText": "2"},
                                                        {"oldText": "one", "newText": "1"}]) == (
        "Found 2 occurrences of edits[0] in c.txt. Each oldText must be unique. "
        "Please provide more context to make it unique.")
    assert error_of(edit_tool, ctx, path="c.txt", edits=[{"oldText": "one\ntwo", "newText": "x"},
                                                        {"oldText": "e\ntw", "newText": "y"}]) == \
        "edits[0] and edits[1] overlap in c.txt. Merge them into one edit or target disjoint regions."
    assert error_of(edit_tool, ctx, path="c.txt", edits=[{"oldText": "one", "newText": "one"},
                                                        {"oldText": "three", "newText": "three"}]) == \
        "No changes made to c.txt. The replacements produced identical content."
    # one entry: the single-edit texts, and the mismatch hint
    assert error_of(edit_tool, ctx, path="c.txt", edits=[{"oldText": "four", "newText": "4"}]) == \
        f"Could not find the exact text in c.txt. {NOT_FOUND}\nCurrent file contents:\none\ntwo\ntwo\nthree\n"
    # blank oldText entries are dropped by OpenClaw; with none left the parameters are missing
    assert error_of(edit_tool, ctx, path="c.txt", edits=[{"oldText": " ", "newText": "4"}]) == \
        "Missing required parameters: oldText alias, newText alias." + RETRY


def test_edit_null_byte_path_per_version(ctx: ToolContext, ctx41: ToolContext) -> None:
    # 3.24's access check swallows Node's complaint; 4.1 answers it
    assert error_of(edit_tool, ctx, path="a\x00.py", oldText="a", newText="b") == "File not found: a\x00.py"
    assert error_of(edit_tool, ctx41, path="a\x00.py", edits=[{"oldText": "a", "newText": "b"}]).startswith(
        "The argument 'path' must be a string, Uint8Array, or URL without null bytes.")


def test_edit_hint_cut_inside_an_emoji_keeps_its_high_surrogate(ctx: ToolContext) -> None:
    put(ctx, "e.txt", "c" * 799 + "😀tail")
    message = error_of(edit_tool, ctx, path="e.txt", oldText="nope", newText="x")
    assert message.endswith("c" * 799 + "\ud83d\n... (truncated)")
    # the JSON envelope escapes it as JSON.stringify does
    text = ToolBox(ctx, "coding").call("edit", {"path": "e.txt", "oldText": "nope", "newText": "x"}).text
    assert text.endswith('c\\ud83d\\n... (truncated)"\n}')
