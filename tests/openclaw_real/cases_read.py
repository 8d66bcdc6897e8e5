"""read: paging (2000 lines / 50KB pages, the adaptive cap), offsets and limits, aliases, errors, UTF-8
edge cases, and images (pi's 2000px / 4.5MB resize with its dimension note, OpenClaw's omitted-image
notes). Image fixtures are made with Pillow here, deterministically."""

from __future__ import annotations

import io
import random
from functools import cache

from openclaw_real.cases import Call, Case, one

V324, V41 = ("2026.3.24",), ("2026.4.1",)


def _lines(n: int, fmt: str = "line {i}") -> str:
    return "\n".join(fmt.format(i=i) for i in range(1, n + 1)) + "\n"


# ---------------------------------------------------------------- image fixtures


def _encode(img: object, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)  # type: ignore[attr-defined]
    return buf.getvalue()


@cache
def _image(kind: str) -> bytes:
    from PIL import Image

    if kind == "png_small":
        return _encode(Image.new("RGB", (40, 30), (200, 30, 30)), "PNG")
    if kind == "png_rgba":
        return _encode(Image.new("RGBA", (64, 64), (0, 128, 255, 128)), "PNG")
    if kind == "png_gray":
        return _encode(Image.new("L", (50, 20), 128), "PNG")
    if kind == "png_palette":
        return _encode(Image.new("RGB", (33, 17), (1, 2, 3)).convert("P"), "PNG")
    if kind == "png_3000x2200":
        return _encode(Image.new("RGB", (3000, 2200), (10, 120, 200)), "PNG")
    if kind == "png_tall":  # noise: 3.24 picks JPEG (smaller), 4.1 PNG (first under the limit)
        rng = random.Random(18)
        return _encode(Image.frombytes("RGB", (300, 4100), rng.randbytes(300 * 4100 * 3)), "PNG", compress_level=1)
    if kind == "png_flat_tall":
        return _encode(Image.new("RGB", (900, 4100), (90, 90, 90)), "PNG")
    if kind == "jpeg_exif_rot6":  # EXIF orientation 6: pi reports the rotated (upright) size
        exif = Image.Exif()
        exif[0x0112] = 6
        return _encode(Image.new("RGB", (2400, 1000), (30, 60, 90)), "JPEG", quality=90, exif=exif.tobytes())
    if kind == "png_exif_rot6":  # pi applies EXIF orientation to JPEG and WebP only
        exif = Image.Exif()
        exif[0x0112] = 6
        return _encode(Image.new("RGB", (2400, 1000), (30, 60, 90)), "PNG", exif=exif.tobytes())
    if kind == "png_2000":
        return _encode(Image.new("RGB", (2000, 2000), (250, 250, 250)), "PNG")
    if kind == "png_2001":
        return _encode(Image.new("RGB", (2001, 1000), (250, 250, 250)), "PNG")
    if kind == "png_1500":
        return _encode(Image.new("RGB", (1500, 900), (5, 5, 5)), "PNG")
    if kind == "png_noise_5_9mb":  # 1400x1400 random RGB: ~5.9 MB, fits 2000px but not 4.5MB
        rng = random.Random(16)
        return _encode(Image.frombytes("RGB", (1400, 1400), rng.randbytes(1400 * 1400 * 3)), "PNG", compress_level=1)
    if kind == "png_noise_3_5mb":  # ~3.5 MB: under 4.5MB raw and in base64
        rng = random.Random(17)
        return _encode(Image.frombytes("RGB", (1080, 1080), rng.randbytes(1080 * 1080 * 3)), "PNG", compress_level=1)
    if kind == "png_noise_3_6mb":  # ~3.6 MB: under 4.5MB raw (3.24 keeps it), over it in base64 (4.1 re-encodes)
        rng = random.Random(19)
        return _encode(Image.frombytes("RGB", (1090, 1090), rng.randbytes(1090 * 1090 * 3)), "PNG", compress_level=1)
    if kind == "jpeg_small":
        return _encode(Image.new("RGB", (80, 60), (0, 200, 0)), "JPEG", quality=90)
    if kind == "jpeg_big":
        return _encode(Image.new("RGB", (2400, 1200), (0, 200, 0)), "JPEG", quality=90)
    if kind == "jpeg_corrupt":
        return b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + bytes(range(256)) * 4
    if kind == "jpeg_truncated":
        return _image("jpeg_small")[:200]
    if kind == "png_corrupt":
        return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\x00" * 13 + b"\x00\x00\x00\x00IDAT" + b"garbage" * 20
    if kind == "gif_small":
        return _encode(Image.new("P", (24, 24), 3), "GIF")
    if kind == "gif_big":
        return _encode(Image.new("P", (2600, 300), 3), "GIF")
    if kind == "webp_small":
        return _encode(Image.new("RGB", (30, 30), (9, 9, 200)), "WEBP", quality=80)
    if kind == "webp_lossless":
        return _encode(Image.new("RGB", (30, 30), (9, 9, 200)), "WEBP", lossless=True)
    if kind == "webp_big":
        return _encode(Image.new("RGB", (2200, 2200), (9, 9, 200)), "WEBP", quality=80)
    if kind == "bmp":
        return _encode(Image.new("RGB", (10, 10), (1, 1, 1)), "BMP")
    raise KeyError(kind)


def _img_case(case_id: str, kind: str, name: str, **kw: object) -> Case:
    return one(case_id, "read", {"path": name}, files={name: _image(kind)}, **kw)  # type: ignore[arg-type]


_IMAGES = [
    ("png_small", "a.png"), ("png_rgba", "rgba.png"), ("png_gray", "gray.png"), ("png_palette", "pal.png"),
    ("png_3000x2200", "big.png"), ("png_tall", "tall.png"), ("png_flat_tall", "flat.png"),
    ("jpeg_exif_rot6", "rot.jpg"), ("png_exif_rot6", "rot.png"), ("png_2000", "edge.png"), ("png_2001", "over.png"),
    ("png_1500", "mid.png"), ("png_noise_5_9mb", "noise.png"), ("png_noise_3_5mb", "noise35.png"),
    ("png_noise_3_6mb", "noise36.png"),
    ("jpeg_small", "a.jpg"), ("jpeg_big", "big.jpg"), ("jpeg_corrupt", "bad.jpg"), ("jpeg_truncated", "cut.jpg"),
    ("png_corrupt", "bad.png"), ("gif_small", "a.gif"), ("gif_big", "big.gif"), ("webp_small", "a.webp"),
    ("webp_lossless", "ll.webp"), ("webp_big", "big.webp"), ("bmp", "a.bmp"),
]

IMAGE_CASES = [_img_case(f"read.image.{kind}", kind, name) for kind, name in _IMAGES] + [
    one("read.image.misnamed_txt", "read", {"path": "pic.txt"}, files={"pic.txt": _image("png_small")}),
    one("read.image.absolute_path", "read", {"file_path": "@sub/p.png"}, files={"sub/p.png": _image("png_3000x2200")}),
    one("read.image.corrupt_label_alias", "read", {"file_path": "@imgs/bad.png"}, files={"imgs/bad.png": _image("png_corrupt")}),
    one("read.image.offset_ignored", "read", {"path": "a.png", "offset": 5, "limit": 2},
        files={"a.png": _image("png_small")}),
]

# ---------------------------------------------------------------- text


TEXT_CASES = [
    one("read.plain", "read", {"path": "a.txt"}, files={"a.txt": "one\ntwo\nthree\n"}),
    one("read.no_trailing_newline", "read", {"path": "a.txt"}, files={"a.txt": "one\ntwo"}),
    one("read.empty_file", "read", {"path": "e.txt"}, files={"e.txt": ""}),
    one("read.only_newline", "read", {"path": "e.txt"}, files={"e.txt": "\n"}),
    one("read.crlf", "read", {"path": "c.txt"}, files={"c.txt": "a\r\nb\r\n"}),
    one("read.alias.file_path", "read", {"file_path": "a.txt"}, files={"a.txt": "x\n"}),
    one("read.alias.filePath", "read", {"filePath": "a.txt"}, files={"a.txt": "x\n"}),
    one("read.alias.file", "read", {"file": "a.txt"}, files={"a.txt": "x\n"}),
    one("read.alias.path_wins", "read", {"path": "a.txt", "file_path": "b.txt"}, files={"a.txt": "A\n", "b.txt": "B\n"}),
    one("read.at_prefix", "read", {"path": "@a.txt"}, files={"a.txt": "at\n"}),
    one("read.subdir_dotdot", "read", {"path": "sub/../a.txt"}, files={"a.txt": "dd\n", "sub/x": "1"}),
    one("read.missing_path", "read", {}),
    one("read.blank_path", "read", {"path": "   "}),
    one("read.path_not_string", "read", {"path": 12}),
    one("read.enoent", "read", {"path": "nope.txt"}),
    one("read.enoent_nested", "read", {"path": "no/such/dir/x.txt"}),
    one("read.eisdir", "read", {"path": "sub"}, files={"sub/f.txt": "x"}),
    one("read.workspace_dot", "read", {"path": "."}, files={"f.txt": "x"}),
    one("read.enotdir", "read", {"path": "f.txt/x"}, files={"f.txt": "x"}),
    one("read.null_byte", "read", {"path": "a\u0000b.txt"}),
    one("read.offset", "read", {"path": "a.txt", "offset": 3}, files={"a.txt": _lines(10)}),
    one("read.offset_1", "read", {"path": "a.txt", "offset": 1}, files={"a.txt": _lines(3)}),
    one("read.offset_0", "read", {"path": "a.txt", "offset": 0}, files={"a.txt": _lines(3)}),
    one("read.offset_negative", "read", {"path": "a.txt", "offset": -4}, files={"a.txt": _lines(3)}),
    one("read.offset_last_line", "read", {"path": "a.txt", "offset": 4}, files={"a.txt": _lines(3)}),
    one("read.offset_beyond_eof", "read", {"path": "a.txt", "offset": 50}, files={"a.txt": _lines(3)}),
    one("read.offset_beyond_eof_limit", "read", {"path": "a.txt", "offset": 9, "limit": 2}, files={"a.txt": _lines(3)}),
    one("read.offset_string", "read", {"path": "a.txt", "offset": "2"}, files={"a.txt": _lines(5)}),
    one("read.offset_float", "read", {"path": "a.txt", "offset": 2.5}, files={"a.txt": _lines(5)}),
    one("read.offset_bad_string", "read", {"path": "a.txt", "offset": "two"}, files={"a.txt": _lines(5)}),
    one("read.limit", "read", {"path": "a.txt", "limit": 2}, files={"a.txt": _lines(10)}),
    one("read.limit_exact", "read", {"path": "a.txt", "limit": 4}, files={"a.txt": _lines(3)}),
    one("read.limit_zero", "read", {"path": "a.txt", "limit": 0}, files={"a.txt": _lines(5)}),
    one("read.limit_negative", "read", {"path": "a.txt", "limit": -2}, files={"a.txt": _lines(5)}),
    one("read.limit_float", "read", {"path": "a.txt", "limit": 1.5}, files={"a.txt": _lines(5)}),
    one("read.offset_and_limit", "read", {"path": "a.txt", "offset": 4, "limit": 3}, files={"a.txt": _lines(10)}),
    one("read.limit_over_2000", "read", {"path": "a.txt", "limit": 2500}, files={"a.txt": _lines(3000)}),
    one("read.limit_over_50kb", "read", {"path": "a.txt", "limit": 100},
        files={"a.txt": _lines(100, "{i:04d} " + "x" * 995)}),
    one("read.2000_lines_exact", "read", {"path": "a.txt"}, files={"a.txt": "\n".join(f"l{i}" for i in range(2000))}),
    one("read.2001_lines", "read", {"path": "a.txt"}, files={"a.txt": "\n".join(f"l{i}" for i in range(2001))}),
    one("read.autopage_5000", "read", {"path": "a.txt"}, files={"a.txt": _lines(5000)}),
    one("read.autopage_from_offset", "read", {"path": "a.txt", "offset": 1500}, files={"a.txt": _lines(5000)}),
    one("read.50kb_page", "read", {"path": "a.txt"}, files={"a.txt": _lines(120, "{i:04d} " + "y" * 595)}),
    one("read.adaptive_cap_hit", "read", {"path": "a.txt"}, files={"a.txt": _lines(2000, "{i:05d} " + "z" * 200)}),
    one("read.adaptive_cap_small_ctx", "read", {"path": "a.txt"}, files={"a.txt": _lines(1200, "{i:05d} " + "z" * 200)},
        context_window_tokens=16000),
    one("read.adaptive_cap_large_ctx", "read", {"path": "a.txt"}, files={"a.txt": _lines(3000, "{i:05d} " + "q" * 120)},
        context_window_tokens=400000),
    one("read.huge_first_line", "read", {"path": "a.txt"}, files={"a.txt": "h" * 60000 + "\nsecond\n"}),
    one("read.huge_line_mid", "read", {"path": "a.txt"}, files={"a.txt": "first\n" + "h" * 60000 + "\nthird\n"}),
    one("read.huge_line_offset", "read", {"path": "a.txt", "offset": 2}, files={"a.txt": "first\n" + "h" * 70000 + "\n"}),
    one("read.huge_line_limit", "read", {"path": "a.txt", "limit": 1}, files={"a.txt": "k" * 51300}),
    one("read.exact_50kb_line", "read", {"path": "a.txt"}, files={"a.txt": "e" * 51200}),
    one("read.utf8_multibyte", "read", {"path": "u.txt"}, files={"u.txt": "héllo wörld\n日本語\n😀 emoji\n"}),
    one("read.utf8_invalid", "read", {"path": "b.txt"}, files={"b.txt": b"ok \xff\xfe bad \xc3\x28 end\n"}),
    one("read.utf8_truncated_seq", "read", {"path": "b.txt"}, files={"b.txt": b"abc\xe6\x97"}),
    one("read.bom", "read", {"path": "b.txt"}, files={"b.txt": b"\xef\xbb\xbfbom line\n"}),
    one("read.nul_bytes", "read", {"path": "n.bin"}, files={"n.bin": b"a\x00b\x00c\n"}),
    one("read.binary_blob", "read", {"path": "x.bin"}, files={"x.bin": bytes(range(256))}),
    one("read.tabs_and_cr", "read", {"path": "t.txt"}, files={"t.txt": "a\tb\rc\n"}),
    one("read.multibyte_50kb", "read", {"path": "m.txt"}, files={"m.txt": _lines(400, "{i:03d} " + "é" * 100)}),
    one("read.unicode_path", "read", {"path": "dïr/ñame.txt"}, files={"dïr/ñame.txt": "unicode path\n"}),
    one("read.space_path", "read", {"path": "my file.txt"}, files={"my file.txt": "space\n"}),
    one("read.nbsp_path", "read", {"path": "my\u00a0file.txt"}, files={"my file.txt": "nbsp→space\n"}),
    one("read.smart_quote_fallback", "read", {"path": "it's.txt"}, files={"it\u2019s.txt": "curly\n"}),
    one("read.dotfile", "read", {"path": ".env"}, files={".env": "A=1\n"}),
    one("read.extra_param", "read", {"path": "a.txt", "encoding": "latin1"}, files={"a.txt": "x\n"}),
    one("read.args_string_json", "read", '{"path": "a.txt", "limit": 1}', files={"a.txt": "one\ntwo\n"}),
    one("read.args_partial_json", "read", '{"path": "a.txt"', files={"a.txt": "partial\n"}),
    one("read.dev_null", "read", {"path": "/dev/null"}),
    one("read.only_newlines", "read", {"path": "n.txt"}, files={"n.txt": "\n\n\n"}),
    one("read.exact_50kb_many_lines", "read", {"path": "a.txt"}, files={"a.txt": ("x" * 1023 + "\n") * 50}),
    one("read.just_over_50kb_many_lines", "read", {"path": "a.txt"}, files={"a.txt": ("x" * 1023 + "\n") * 50 + "y"}),
    one("read.offset_huge", "read", {"path": "a.txt", "offset": 1e20}, files={"a.txt": "x\n"}),
    one("read.limit_bad_string", "read", {"path": "a.txt", "limit": "all"}, files={"a.txt": "x\n"}),
    one("read.limit_null", "read", {"path": "a.txt", "limit": None}, files={"a.txt": "x\ny\n"}),
    one("read.offset_page_boundary", "read", {"path": "a.txt", "offset": 2001}, files={"a.txt": _lines(4100)}),
    one("read.cap_exact_pages", "read", {"path": "a.txt"}, files={"a.txt": _lines(16100, "{i:05d}")}),
    one("read.context_guard", "read", {"path": "a.txt"}, files={"a.txt": _lines(300, "{i:03d} " + "g" * 60)},
        context_window_tokens=4000),
    Case("read.twice", (
        Call("read", {"path": "a.txt", "limit": 1}),
        Call("read", {"path": "a.txt", "offset": 2}),
    ), files={"a.txt": "one\ntwo\nthree\n"}),
]

CASES = TEXT_CASES + IMAGE_CASES

KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    ("2026.3.24", "read.image.jpeg_corrupt"): "3.24 drops an undecodable image with libjpeg's own diagnostics "
    "(here a JFIF revision warning and 'datastream contains no image'); we spell libvips's common ones "
    "(PNG with no width/height, JPEG ending before its scan) and give Pillow's words for the rest",
}
