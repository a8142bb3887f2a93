"""Photos: check that bytes are a real image, shrink them for the wire, strip location.

The agent calls `prepare_photo` before storing a photo (small JPEG, upright, no metadata).
The server calls `check_image` and `strip_location` on what arrives (a client may be
anything) and `thumbnail` for the pages. `strip_location` edits the file's container
(JPEG segments, PNG chunks, WebP chunks) and never re-encodes, so pixels stay as sent.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MIMES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# 50 megapixels covers a 48 MP phone camera; more is refused as a decompression bomb.
MAX_PIXELS = 50_000_000
ORIENTATION = 0x0112
GPS_IFD = 0x8825


class ImageRejected(ValueError):
    """Not an image we accept; the message says why, for a person to read."""


@dataclass(frozen=True)
class ImageInfo:
    mime: str
    width: int
    height: int
    orientation: int  # EXIF orientation, 1 = upright


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open and fully decode `data` as JPEG, PNG or WebP, refusing anything else."""
    if not data:
        raise ImageRejected("the file is empty")
    try:
        img = Image.open(io.BytesIO(data), formats=tuple(MIMES))
    except UnidentifiedImageError:
        raise ImageRejected("not a JPEG, PNG or WebP image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("the image has too many pixels (decompression bomb)") from None
    except (OSError, ValueError, SyntaxError, struct.error) as exc:
        raise ImageRejected(f"the image is damaged: {exc}") from None
    width, height = img.size
    if width < 1 or height < 1 or width * height > max_pixels:
        img.close()
        raise ImageRejected(
            f"the image is {width}x{height} pixels; at most {max_pixels:,} pixels are accepted"
        )
    if getattr(img, "n_frames", 1) != 1:
        img.close()
        raise ImageRejected("animated images are not accepted; send a still photo")
    try:
        img.load()
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error) as exc:
        img.close()
        raise ImageRejected(f"the image is damaged or cut short: {exc}") from None
    return img


def inspect_image(data: bytes, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Decode `data` (JPEG, PNG or WebP only) and describe it; ImageRejected otherwise."""
    with _open(data, max_pixels) as img:
        try:
            orientation = int(img.getexif().get(ORIENTATION, 1))
        except Exception:  # a broken EXIF block must not make a good image unreadable
            orientation = 1
        return ImageInfo(MIMES[img.format or ""], img.width, img.height, orientation)


def check_image(data: bytes) -> str:
    """The mime type of `data` if Pillow decodes it as JPEG, PNG or WebP; else ImageRejected."""
    return inspect_image(data).mime


def _rgb_jpeg(img: Image.Image, max_side: int, quality: int) -> bytes:
    if img.format == "JPEG":
        img.draft("RGB", (max_side, max_side))  # decode JPEGs at 1/2..1/8 scale when possible
    upright = ImageOps.exif_transpose(img)
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    ):
        rgba = upright.convert("RGBA")
        out = Image.new("RGB", rgba.size, "white")
        out.paste(rgba, mask=rgba.getchannel("A"))
    else:
        out = upright.convert("RGB")
    out.info.clear()  # no EXIF, XMP or comments ride along into the new file
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=quality, optimize=True, exif=b"")
    return buf.getvalue()


def prepare_photo(data: bytes, max_side: int = 1600, quality: int = 85) -> bytes:
    """The agent's copy of a photo: upright, long side <= max_side, JPEG, no metadata."""
    with _open(data, MAX_PIXELS) as img:
        return _rgb_jpeg(img, max_side, quality)


def thumbnail(data: bytes, size: int = 256) -> bytes:
    """A small upright JPEG (long side <= size) for lists and pages."""
    with _open(data, MAX_PIXELS) as img:
        return _rgb_jpeg(img, size, 80)


# -- stripping metadata without re-encoding -----------------------------------------------


def strip_location(data: bytes) -> bytes:
    """The same image without EXIF (GPS, camera, times), XMP, comments or trailing data.

    Only the EXIF orientation survives (so the photo stays upright). Pixels are untouched.
    """
    info = inspect_image(data)
    if info.mime == "image/jpeg":
        out = _strip_jpeg(data, info.orientation)
    elif info.mime == "image/png":
        out = _strip_png(data, info.orientation)
    else:
        out = _strip_webp(data, info.orientation)
    _assert_clean(out, info)
    return out


def _orientation_tiff(orientation: int) -> bytes:
    """A TIFF block holding only the orientation tag."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    raw = exif.tobytes()
    return raw[6:] if raw.startswith(b"Exif\x00\x00") else raw


def _strip_jpeg(data: bytes, orientation: int) -> bytes:
    out = [data[:2]]  # SOI
    pos = 2
    n = len(data)
    keep_exif_at = 1
    while pos < n:
        if data[pos] != 0xFF:
            raise ImageRejected("the JPEG structure is damaged")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            break
        marker = data[pos]
        start = pos - 1
        pos += 1
        if marker == 0xD9:  # EOI: anything after it (e.g. MPF extra images) is dropped
            out.append(b"\xff\xd9")
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            out.append(data[start:pos])
            continue
        if pos + 2 > n:
            raise ImageRejected("the JPEG is cut short")
        length = int.from_bytes(data[pos : pos + 2], "big")
        end = pos + length
        if length < 2 or end > n:
            raise ImageRejected("the JPEG structure is damaged")
        segment = data[start:end]
        pos = end
        if marker == 0xDA:  # SOS: copy the entropy-coded data up to the next real marker
            scan_end = _scan_end(data, pos)
            out.append(segment + data[pos:scan_end])
            pos = scan_end
            continue
        if _keep_jpeg_segment(marker, segment[4:]):
            out.append(segment)
            if marker == 0xE0 and keep_exif_at == len(out) - 1:
                keep_exif_at = len(out)  # EXIF goes right after a leading JFIF segment
    if orientation != 1:
        payload = b"Exif\x00\x00" + _orientation_tiff(orientation)
        app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
        out.insert(keep_exif_at, app1)
    return b"".join(out)


def _keep_jpeg_segment(marker: int, body: bytes) -> bool:
    if marker == 0xE0:  # JFIF
        return True
    if marker == 0xE2:  # ICC colour profile only (APP2 also carries MPF extra images)
        return body.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:  # Adobe colour transform
        return True
    # Other APPn (EXIF, XMP, IPTC, maker notes) and comments may hold places and names.
    return not (0xE0 <= marker <= 0xEF or marker == 0xFE)


def _scan_end(data: bytes, pos: int) -> int:
    """Offset of the first marker after entropy-coded data (skipping FF00 and RSTn)."""
    n = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= n:
            return n
        nxt = data[pos + 1]
        if nxt == 0x00 or nxt == 0xFF or 0xD0 <= nxt <= 0xD7:
            pos += 1 if nxt == 0xFF else 2
            continue
        return pos


_PNG_SIG = b"\x89PNG\r\n\x1a\n"
# Ancillary chunks about colour, transparency and animation; text, time and EXIF go.
_PNG_KEEP = {
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD", b"hIST",
    b"sPLT", b"cICP", b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")


def _strip_png(data: bytes, orientation: int) -> bytes:
    out = [_PNG_SIG]
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ImageRejected("the PNG is cut short")
        if kind[0:1].isupper() or kind in _PNG_KEEP:
            out.append(data[pos:end])
            if kind == b"IHDR" and orientation != 1:
                out.append(_png_chunk(b"eXIf", _orientation_tiff(orientation)))
        pos = end
        if kind == b"IEND":
            break
    return b"".join(out)


_WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}


def _strip_webp(data: bytes, orientation: int) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ImageRejected("the WebP structure is damaged")
    riff_end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    chunks = []
    pos = 12
    while pos + 8 <= riff_end:
        kind = data[pos : pos + 4]
        length = int.from_bytes(data[pos + 4 : pos + 8], "little")
        end = pos + 8 + length + (length & 1)
        if pos + 8 + length > riff_end:
            raise ImageRejected("the WebP is cut short")
        if kind in _WEBP_KEEP:
            chunks.append(bytearray(data[pos:end]))
        pos = end
    extended = chunks and chunks[0][:4] == b"VP8X"
    if extended:
        chunks[0][8] &= ~(0x08 | 0x04) & 0xFF  # no EXIF, no XMP
        if orientation != 1:
            tiff = _orientation_tiff(orientation)
            pad = b"\x00" if len(tiff) & 1 else b""
            chunks.append(bytearray(b"EXIF" + len(tiff).to_bytes(4, "little") + tiff + pad))
            chunks[0][8] |= 0x08
    body = b"WEBP" + b"".join(bytes(c) for c in chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def _assert_clean(out: bytes, before: ImageInfo) -> None:
    """Belt and braces: the result decodes the same and carries no location."""
    with _open(out, MAX_PIXELS) as img:
        exif = img.getexif()
        leftover = set(exif) - {ORIENTATION}
        if (
            MIMES.get(img.format or "") != before.mime
            or img.size != (before.width, before.height)
            or leftover
            or exif.get_ifd(GPS_IFD)
            or any(k in img.info for k in ("xmp", "XML:com.adobe.xmp", "comment"))
        ):
            raise ImageRejected("could not remove the photo's metadata safely")
