"""Images read by ``read``: what the model sees (text note + image part), per OpenClaw version.

OpenClaw's read of an image runs pi's ``resizeImage`` (photon: fit 2000x2000 and 4.5MB, Lanczos3, PNG
or JPEG; the text says ``Read image file [mime]`` plus a dimension note when it resized), then its own
``sanitizeToolResultImages`` (sharp: images over 1200px or 5MB are re-encoded to JPEG; only the image
part changes). pi 0.61 (3.24) keeps an image it cannot decode as it is and picks the smaller of PNG
and JPEG; pi 0.64 (4.1) measures base64 size, takes the first candidate under the limit (PNG first)
and answers an "Image omitted" note when it cannot decode. We reproduce the texts with Pillow (imported
here only, lazily); pixel bytes differ. Known limit: where photon's PNG and JPEG sizes nearly tie,
3.24 may name the other mime (photon's fast PNG deflate is estimated, its JPEG is 4:4:4 baseline).
"""

from __future__ import annotations

import base64
import io
import math
import zlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["ToolImage", "ToolOutput", "read_image"]

PI_MAX_SIDE = 2000
PI_MAX_BYTES = int(4.5 * 1024 * 1024)
PI_JPEG_QUALITY = 80
SANITIZE_MAX_SIDE = 1200
SANITIZE_MAX_BYTES = 5 * 1024 * 1024
SANITIZE_QUALITIES = (85, 75, 65, 55, 45, 35)
OMITTED_41 = "[Image omitted: could not be resized below the inline image size limit.]"


@dataclass(frozen=True)
class ToolImage:
    """An image part of a tool result (for multimodal models)."""

    mime_type: str
    data: str
    """base64."""


@dataclass
class ToolOutput:
    """A tool's result when it carries images besides its text."""

    text: str
    images: list[ToolImage] = field(default_factory=list)


def _js_round(x: float) -> int:
    return math.floor(x + 0.5)


def _to_fixed2(x: float) -> str:
    return str(Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _b64_len(n: int) -> int:
    return 4 * ((n + 2) // 3)


def _decode(data: bytes, mime: str) -> Any:
    """photon's decode: the full image (first frame), EXIF orientation applied for JPEG and WebP."""
    from PIL import Image, ImageOps

    img = Image.open(io.BytesIO(data))
    img.load()
    if mime in ("image/jpeg", "image/webp"):
        img = ImageOps.exif_transpose(img)
    return img.convert("RGBA")


def _png(img: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _png_size_estimate(img: Any) -> int:
    """photon's PNG size, estimated (its encoder is not Pillow's): unfiltered rows under fast deflate,
    which lands within a few percent of it on the images we measured."""
    w, h = img.size
    raw = img.tobytes()
    stride = w * 4
    rows = b"".join(b"\0" + raw[y * stride:(y + 1) * stride] for y in range(h))
    return len(zlib.compress(rows, 1)) + 57


def _jpeg(img: Any, quality: int) -> bytes:
    """photon's JPEG: baseline, 4:4:4 (Pillow's matches it byte for byte in size on flat images)."""
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=quality, subsampling=0)
    return out.getvalue()


@dataclass
class _Resized:
    data: bytes
    mime: str
    width: int
    height: int
    original: tuple[int, int]
    resized: bool


def _target(w: int, h: int) -> tuple[int, int]:
    if w > PI_MAX_SIDE:
        h, w = _js_round(h * PI_MAX_SIDE / w), PI_MAX_SIDE
    if h > PI_MAX_SIDE:
        w, h = _js_round(w * PI_MAX_SIDE / h), PI_MAX_SIDE
    return w, h


def _resize_324(img: Any, data: bytes, mime: str) -> _Resized:
    """pi 0.61 ``resizeImage``: smaller of PNG/JPEG, then JPEG qualities, then scales; raw byte limit."""
    from PIL import Image

    ow, oh = img.size
    if ow <= PI_MAX_SIDE and oh <= PI_MAX_SIDE and len(data) <= PI_MAX_BYTES:
        return _Resized(data, mime, ow, oh, (ow, oh), False)
    tw, th = _target(ow, oh)

    def both(w: int, h: int, q: int) -> tuple[bytes, str]:
        r = img.resize((w, h), Image.LANCZOS)
        jpeg = _jpeg(r, q)
        # pickSmaller(png, jpeg): PNG on a tie; encode the PNG only when it may win
        if _png_size_estimate(r) <= len(jpeg):
            return _png(r), "image/png"
        return jpeg, "image/jpeg"

    best = both(tw, th, PI_JPEG_QUALITY)
    w, h = tw, th
    if len(best[0]) > PI_MAX_BYTES:
        for q in (85, 70, 55, 40):
            best = both(tw, th, q)
            if len(best[0]) <= PI_MAX_BYTES:
                break
        else:
            for scale in (1.0, 0.75, 0.5, 0.35, 0.25):
                fw, fh = _js_round(tw * scale), _js_round(th * scale)
                if fw < 100 or fh < 100:
                    break
                w, h = fw, fh
                for q in (85, 70, 55, 40):
                    best = both(fw, fh, q)
                    if len(best[0]) <= PI_MAX_BYTES:
                        return _Resized(best[0], best[1], w, h, (ow, oh), True)
    return _Resized(best[0], best[1], w, h, (ow, oh), True)


def _resize_41(img: Any, data: bytes, mime: str) -> _Resized | None:
    """pi 0.64 ``resizeImage``: first of PNG, JPEG 80/85/70/55/40 under the base64 limit, shrinking by 3/4."""
    from PIL import Image

    ow, oh = img.size
    if ow <= PI_MAX_SIDE and oh <= PI_MAX_SIDE and _b64_len(len(data)) < PI_MAX_BYTES:
        return _Resized(data, mime, ow, oh, (ow, oh), False)
    w, h = _target(ow, oh)
    while True:
        r = img.resize((w, h), Image.LANCZOS)
        png = _png(r)
        if _b64_len(len(png)) < PI_MAX_BYTES:
            return _Resized(png, "image/png", w, h, (ow, oh), True)
        for q in (80, 85, 70, 55, 40):
            jpeg = _jpeg(r, q)
            if _b64_len(len(jpeg)) < PI_MAX_BYTES:
                return _Resized(jpeg, "image/jpeg", w, h, (ow, oh), True)
        if w == 1 and h == 1:
            return None
        nw, nh = (1 if w == 1 else max(1, w * 3 // 4)), (1 if h == 1 else max(1, h * 3 // 4))
        if (nw, nh) == (w, h):
            return None
        w, h = nw, nh


def _jpeg_ends_before_scan(data: bytes) -> bool:
    """A JPEG whose marker segments are well formed but that ends before its first scan (SOS)."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:
            return False
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return True


def _header(data: bytes, mime: str) -> tuple[Any, str | None]:
    """sharp's metadata: the decoded header, or None and libvips's complaint (its common ones spelled as
    libvips spells them; others are Pillow's words)."""
    from PIL import Image

    if mime == "image/png" and data[12:16] == b"IHDR":
        for name, at in (("width", 16), ("height", 20)):
            if int.from_bytes(data[at:at + 4], "big") == 0:
                return None, f"pngload_buffer: invalid image {name}"
    if mime == "image/jpeg" and _jpeg_ends_before_scan(data):
        return None, "VipsJpeg: premature end of JPEG image\nVipsJpeg: Invalid JPEG file structure: missing SOS marker"
    try:
        img = Image.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 -- any decoder complaint is "corrupt header" to sharp
        return None, str(exc).split(" <_io.")[0]
    if img.width <= 0 or img.height <= 0:
        return None, "invalid image dimensions"
    return img, None


def _sanitize(data: bytes, mime: str, label: str) -> tuple[ToolImage | None, str | None]:
    """OpenClaw ``sanitizeContentBlocksImages`` for one image: (image, None) or (None, omitted note)."""
    from PIL import Image, ImageOps

    header, why = _header(data, mime)
    if header is None:
        return None, f"[{label}] omitted image payload: Error: Input buffer has corrupt header: {why}"
    w, h = header.size
    if len(data) <= SANITIZE_MAX_BYTES and w <= SANITIZE_MAX_SIDE and h <= SANITIZE_MAX_SIDE:
        return ToolImage(mime, base64.b64encode(data).decode("ascii")), None
    try:
        img = ImageOps.exif_transpose(header.convert("RGB") if header.mode not in ("RGB", "L") else header)
    except Exception as exc:  # noqa: BLE001
        return None, f"[{label}] omitted image payload: Error: {exc}"
    side = min(SANITIZE_MAX_SIDE, max(w, h))
    grid = sorted({min(SANITIZE_MAX_SIDE, v) for v in (side, 1800, 1600, 1400, 1200, 1000, 800) if v > 0}, reverse=True)
    smallest: bytes | None = None
    for s in grid:
        scaled = img.copy()
        scaled.thumbnail((s, s), Image.LANCZOS)
        for q in SANITIZE_QUALITIES:
            out = io.BytesIO()
            scaled.convert("RGB").save(out, "JPEG", quality=q)
            jpeg = out.getvalue()
            if smallest is None or len(jpeg) < len(smallest):
                smallest = jpeg
            if len(jpeg) <= SANITIZE_MAX_BYTES:
                return ToolImage("image/jpeg", base64.b64encode(jpeg).decode("ascii")), None
    got = len(smallest or data) / (1024 * 1024)
    return None, f"[{label}] omitted image payload: Error: Image could not be reduced below 5MB (got {got:.2f}MB)"


def read_image(data: bytes, mime: str, path: str, version: str) -> ToolOutput:
    """The result of reading an image file at ``path`` (as the model wrote it) under that OpenClaw version."""
    try:
        img = _decode(data, mime)
    except Exception:  # noqa: BLE001 -- photon could not decode it
        img = None
    if version == "2026.3.24":
        resized = _resize_324(img, data, mime) if img is not None else _Resized(data, mime, 0, 0, (0, 0), False)
    else:
        resized = _resize_41(img, data, mime) if img is not None else None
        if resized is None:
            return ToolOutput(f"Read image file [{mime}]\n{OMITTED_41}")
    text = f"Read image file [{resized.mime}]"
    if resized.resized:
        (ow, oh), w, h = resized.original, resized.width, resized.height
        text += (f"\n[Image: original {ow}x{oh}, displayed at {w}x{h}. "
                 f"Multiply coordinates by {_to_fixed2(ow / w)} to map to original image.]")
    image, note = _sanitize(resized.data, resized.mime, f"read:{path}")
    if note is not None:
        return ToolOutput(f"{text}\n{note}")
    return ToolOutput(text, [image] if image else [])
