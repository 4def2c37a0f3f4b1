"""Every download's file name: the Japanese name staff see, with an ASCII name for clients that cannot read it.

RFC 6266 §4.3 / RFC 8187: `filename*=UTF-8''…` carries the Japanese name (percent-encoded UTF-8); `filename="…"`
before it is the ASCII fallback, which a client that understands `filename*` ignores.
"""

from urllib.parse import quote


class DownloadName(str):
    """An ASCII file name (what commands write, what old clients save) that also carries its Japanese name."""

    japanese: str

    def __new__(cls, ascii_name: str, *, japanese: str = ""):
        if not ascii_name.isascii() or not ascii_name.isprintable() or any(c in ascii_name for c in '"\\/'):
            raise ValueError(f"the fallback file name must be plain printable ASCII, not {ascii_name!r}")
        name = super().__new__(cls, ascii_name)
        name.japanese = japanese or ascii_name
        return name


def content_disposition(name: str, *, ascii_fallback: str | None = None) -> str:
    """Return the `Content-Disposition` of an attachment named `name` (a DownloadName or any file name)."""
    japanese = getattr(name, "japanese", name)
    fallback = ascii_fallback or str(name)
    if not fallback.isascii():
        fallback = "download" + (fallback[fallback.rfind(".") :] if "." in fallback else "")
        fallback = fallback if fallback.isascii() else "download"
    fallback = "".join(c for c in fallback if c.isprintable() and c not in '"\\')
    header = f'attachment; filename="{fallback}"'
    if japanese != fallback:
        header += f"; filename*=UTF-8''{quote(japanese, safe='')}"
    return header


def attach(response, name: str, *, ascii_fallback: str | None = None):
    """Mark `response` as a download named `name`; return it."""
    response["Content-Disposition"] = content_disposition(name, ascii_fallback=ascii_fallback)
    return response
