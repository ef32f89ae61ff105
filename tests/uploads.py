"""Small, real files for upload tests (support attachments, guest conversations, retention)."""
import io

from PIL import Image


def png_bytes() -> bytes:
    """A real 4×4 PNG image: the upload checks open it, so it must be a genuine file."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()
