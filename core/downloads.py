"""Every download's file name: the Japanese name staff see, with an ASCII name for clients that cannot read it.

RFC 6266 §4.3 / RFC 8187: `filename*=UTF-8''…` carries the Japanese name (percent-encoded UTF-8); `filename="…"`
before it is the ASCII fallback, which a client that understands `filename*` ignores.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import quote, unquote


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


def disposition_filename(header: str) -> str:
    """The file name a `Content-Disposition` gives: its `filename*` (UTF-8) if it has one, else its `filename`."""
    fallback = ""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename*" and value.lower().startswith("utf-8''"):
            return unquote(value[7:])
        if key.lower() == "filename":
            fallback = value.strip('"')
    return fallback


def attach(response, name: str, *, ascii_fallback: str | None = None):
    """Mark `response` as a download named `name`; return it."""
    response["Content-Disposition"] = content_disposition(name, ascii_fallback=ascii_fallback)
    return response


# --- counted, hashed streams (the export log's one wrapper; exports.middleware) ------------------------------


class RowTally:
    """The data rows a producer wrote (header rows not counted), told through `count_rows`."""

    def __init__(self) -> None:
        self.rows = 0


_tally: ContextVar[RowTally | None] = ContextVar("download_row_tally", default=None)


def count_rows(n: int = 1) -> None:
    """Tell the download being written (if any is counted) that `n` more data rows left."""
    tally = _tally.get()
    if tally is not None:
        tally.rows += n


@contextmanager
def counting_rows(tally: RowTally | None = None) -> Iterator[RowTally]:
    """Count the rows `count_rows` reports inside the block (and in nothing else running meanwhile)."""
    tally = tally or RowTally()
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        _tally.reset(token)


DONE, ABORTED, FAILED = "done", "aborted", "failed"


class CountedStream:
    """An iterator of bytes that hashes (sha256), measures and counts the rows of what it passes on, and calls
    `on_end(outcome, sha256_hex, size, rows)` exactly once: DONE when the inner stream ended, FAILED when it raised,
    ABORTED when it was closed before its end (the client went away: the WSGI server closes the response).

    Each step of the inner iterator runs with `tally` counting, so a producer's `count_rows` reaches it even though
    the server iterates the response after the view has returned.
    """

    def __init__(self, chunks: Iterable[bytes], *, tally: RowTally, on_end: Callable[[str, str, int, int], None]):
        self._inner = iter(chunks)
        self._tally = tally
        self._on_end = on_end
        self._sha = hashlib.sha256()
        self._size = 0
        self._ended = False

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        token = _tally.set(self._tally)
        try:
            chunk = next(self._inner)
        except StopIteration:
            self._end(DONE)
            raise
        except BaseException:
            self._end(FAILED)
            raise
        finally:
            _tally.reset(token)
        chunk = bytes(chunk) if not isinstance(chunk, bytes) else chunk
        self._sha.update(chunk)
        self._size += len(chunk)
        return chunk

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._end(ABORTED)

    def _end(self, outcome: str) -> None:
        if self._ended:
            return
        self._ended = True
        self._on_end(outcome, self._sha.hexdigest(), self._size, self._tally.rows)
