"""sync.images: only real JPEG/PNG/WebP pass, location never survives, pixels are kept."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from sync.images import ImageRejected, check_image, inspect_image, prepare_photo, strip_location
from sync.images import thumbnail as make_thumbnail
from tests.sync.photo_helpers import metadata, pattern, photo, png_claiming_size

FORMATS = ["JPEG", "PNG", "WEBP"]
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_real_images_are_accepted_with_their_mime(fmt):
    assert check_image(photo(fmt)) == MIME[fmt]


def _other(fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    pattern().save(buf, fmt, **kw)
    return buf.getvalue()


def _animated_webp() -> bytes:
    buf = io.BytesIO()
    frames = [pattern(), pattern().rotate(180)]
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"hello, this is not a photo" * 10, "not a JPEG, PNG or WebP"),
        (b"%PDF-1.4\n" + b"x" * 500, "not a JPEG, PNG or WebP"),
        (_other("GIF"), "not a JPEG, PNG or WebP"),
        (_other("BMP"), "not a JPEG, PNG or WebP"),
        (_other("TIFF"), "not a JPEG, PNG or WebP"),
        (photo("JPEG", (400, 300))[:1500], "damaged"),
        (photo("PNG")[:-40], "damaged"),
        (png_claiming_size(20_000, 20_000), "pixels"),
        (png_claiming_size(100_000, 100_000), "pixels"),
        (_animated_webp(), "animated"),
    ],
    ids=[
        "empty",
        "text",
        "pdf",
        "gif",
        "bmp",
        "tiff",
        "cut-jpeg",
        "cut-png",
        "bomb-400MP",
        "bomb-10GP",
        "animated",
    ],
)
def test_anything_else_is_refused_with_a_reason(data, why):
    with pytest.raises(ImageRejected, match=why):
        check_image(data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_strip_location_removes_gps_exif_xmp_and_comments_but_keeps_pixels(fmt):
    original = photo(fmt)
    before = metadata(original)
    assert before["gps"], "the test photo must carry GPS to begin with"
    stripped = strip_location(original)
    after = metadata(stripped)
    assert after["gps"] == {}
    assert after["exif"] == {}
    assert not after["info_keys"] & {"xmp", "XML:com.adobe.xmp", "comment", "Comment"}
    assert b"31,14.08N" not in stripped
    assert b"PhoneCo" not in stripped
    assert b"31.234N" not in stripped
    assert (after["format"], after["size"]) == (before["format"], before["size"])
    assert after["pixels"] == before["pixels"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_strip_location_keeps_only_the_orientation(fmt):
    stripped = strip_location(photo(fmt, orientation=6))
    after = metadata(stripped)
    assert after["exif"] == {0x0112: 6}
    assert after["gps"] == {}


def test_strip_location_handles_progressive_jpeg():
    original = photo("JPEG", (300, 200), progressive=True)
    stripped = strip_location(original)
    assert metadata(stripped)["pixels"] == metadata(original)["pixels"]
    assert metadata(stripped)["gps"] == {}


def test_strip_location_drops_hidden_images_after_the_end_of_the_jpeg():
    # Phones append extra JPEGs (MPF) after the main image; they carry their own EXIF.
    original = photo("JPEG", gps=False) + photo("JPEG")
    stripped = strip_location(original)
    assert b"PhoneCo" not in stripped
    assert stripped.endswith(b"\xff\xd9")
    assert metadata(stripped)["pixels"] == metadata(original)["pixels"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_strip_location_is_idempotent(fmt):
    once = strip_location(photo(fmt))
    assert strip_location(once) == once


def test_strip_location_refuses_non_images():
    with pytest.raises(ImageRejected):
        strip_location(b"GIF89a not really")


@pytest.mark.parametrize("fmt", FORMATS)
def test_prepare_photo_is_an_upright_small_jpeg_without_metadata(fmt):
    original = photo(fmt, (2000, 1500), orientation=6)  # rotated 90 degrees on the sensor
    out = prepare_photo(original, max_side=800)
    info = metadata(out)
    assert info["format"] == "JPEG"
    assert info["size"] == (600, 800)  # upright (portrait) and the long side is 800
    assert info["exif"] == {}
    assert info["gps"] == {}
    assert b"Exif" not in out
    assert b"http://ns.adobe.com" not in out
    assert b"31.234N" not in out


def test_prepare_photo_does_not_enlarge_small_photos():
    out = prepare_photo(photo("JPEG", (64, 48)))
    assert metadata(out)["size"] == (64, 48)


def test_prepare_photo_flattens_transparency_onto_white():
    img = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    out = prepare_photo(buf.getvalue())
    with Image.open(io.BytesIO(out)) as result:
        r, g, b = result.convert("RGB").getpixel((5, 5))
    assert min(r, g, b) > 240


def test_thumbnail_is_a_small_jpeg():
    out = make_thumbnail(photo("PNG", (1000, 400)), size=256)
    info = inspect_image(out)
    assert (info.mime, info.width, info.height) == ("image/jpeg", 256, 102)
