"""QR codes for the pages: invite links, sign-up links, the box's address."""

from __future__ import annotations


def qr_svg(text: str) -> str:
    """``text`` as an inline SVG QR code (error correction level M)."""
    # Imported here: only a few pages and one admin call use it, and the node's idle
    # memory is counted in MB.
    import segno

    # A viewBox and no fixed size, so the page scales it (and its quiet zone) to fit.
    qr = segno.make(text, error="m")
    return str(qr.svg_inline(scale=4, dark="#111", light="#fff", omitsize=True))
