"""Photos for the tests (imported as tests.sync.photo_helpers): made with Pillow, in memory."""

from __future__ import annotations

import io
import zlib

from PIL import Image, PngImagePlugin

GPS_IFD = 0x8825
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="31,14.08N" exif:GPSLongitude="121,28.00E"/></rdf:RDF></x:xmpmeta>'
)


def gps_exif(orientation: int = 1) -> Image.Exif:
    """EXIF with a camera make, an orientation and a GPS position (Shanghai)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneCo"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (31.0, 14.0, 5.0)
    gps[3], gps[4] = "E", (121.0, 28.0, 0.0)
    return exif


def pattern(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    """A picture with some structure (so re-encoding or rotating would show)."""
    img = Image.new(mode, size, "white")
    w, h = size
    img.paste("red" if mode != "L" else 80, (0, 0, w // 2, h // 3))
    img.paste("blue" if mode != "L" else 160, (w // 2, h // 3, w, h))
    return img


def photo(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    *,
    gps: bool = True,
    orientation: int = 1,
    progressive: bool = False,
) -> bytes:
    """A photo in `fmt` (JPEG, PNG, WEBP), with GPS EXIF, XMP and a comment when `gps`."""
    img = pattern(size)
    buf = io.BytesIO()
    kw: dict = {}
    if gps:
        kw["exif"] = gps_exif(orientation).tobytes()
        if fmt == "PNG":
            info = PngImagePlugin.PngInfo()
            info.add_text("Comment", "taken at 31.234N 121.467E")
            info.add_itxt("XML:com.adobe.xmp", XMP.decode())
            kw["pnginfo"] = info
        else:
            kw["xmp"] = XMP
        if fmt == "JPEG":
            kw["comment"] = b"taken at 31.234N 121.467E"
    elif orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif.tobytes()
    if fmt == "JPEG":
        kw["quality"] = 90
        kw["progressive"] = progressive
    if fmt == "WEBP":
        kw["lossless"] = True
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def big_jpeg(side: int = 700, quality: int = 95) -> bytes:
    """A noisy JPEG (noise does not compress: about 530 KB at the defaults), no metadata."""
    img = Image.effect_noise((side, side), 120).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def metadata(data: bytes) -> dict:
    """What a reader of the file learns: EXIF tags, GPS tags, XMP, text, size, pixels."""
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        return {
            "format": img.format,
            "size": img.size,
            "exif": dict(exif),
            "gps": dict(exif.get_ifd(GPS_IFD)),
            "info_keys": set(img.info),
            "pixels": img.convert("RGB").tobytes(),
        }


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's header)."""
    buf = io.BytesIO()
    Image.new("1", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = 8  # IHDR is the first chunk: length(4) type(4) data(13) crc(4)
    data[ihdr + 8 : ihdr + 12] = width.to_bytes(4, "big")
    data[ihdr + 12 : ihdr + 16] = height.to_bytes(4, "big")
    crc = zlib.crc32(bytes(data[ihdr + 4 : ihdr + 21]))
    data[ihdr + 21 : ihdr + 25] = crc.to_bytes(4, "big")
    return bytes(data)
