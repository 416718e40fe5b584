"""The receipt's QR code: the tracking link, as PNG or SVG, readable by any QR reader."""

from __future__ import annotations

import io

import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

# Level M survives a crease or a smudge on paper; a 4-module border is the standard's quiet zone.
_OPTIONS = {"error_correction": qrcode.constants.ERROR_CORRECT_M, "border": 4}


def qr_png(url: str, box_size: int = 8) -> bytes:
    image = qrcode.make(url, image_factory=PyPNGImage, box_size=box_size, **_OPTIONS)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=SvgPathImage, box_size=10, **_OPTIONS)
    return image.to_string(encoding="unicode")
