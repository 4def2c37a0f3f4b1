"""Writing a command's file: to a temporary file beside the target, renamed over it only once complete, so a failure
half-way leaves no partial file behind and the target as it was. Refusals are CommandErrors in Japanese (exit 1)."""

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from core.errors import DomainError


def write_file_atomically(target: Path, chunks: Iterator[bytes], *, progress=None) -> int:
    """Write `chunks` to `target` and return the bytes written; `progress` is a stream to show a bar on, or None."""
    mode = _writable_target(target)
    written = 0
    try:
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:100]}.", suffix=".part")
    except OSError as error:
        raise CommandError(f"出力先のフォルダ「{target.parent}」にファイルを作れません（{error.strerror}）。") from None
    try:
        with (
            os.fdopen(fd, "wb") as out,
            tqdm(
                desc=target.name, unit="B", unit_scale=True, disable=progress is None, file=progress, leave=False
            ) as bar,
        ):
            for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
                bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, mode)
        os.replace(partial, target)
    except DomainError as error:
        raise CommandError(str(error)) from error
    except OSError as error:
        raise CommandError(f"「{target}」に書き込めませんでした（{error.strerror}）。出力先は元のままです。") from None
    finally:
        # A write that failed leaves the export suspended inside its transaction (a server-side cursor):
        # end it now, not whenever the generator is collected.
        getattr(chunks, "close", lambda: None)()
        if os.path.lexists(partial):
            os.unlink(partial)
    return written


def _writable_target(target: Path) -> int:
    """Refuse a target that is not a new path or a regular file in an existing folder; return the file mode to give
    the report (the replaced file's, else what the umask allows a new file).

    A device (/dev/full), a FIFO, a directory or a symbolic link is never replaced by the report.
    """
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except ValueError:
        raise CommandError("出力先のファイル名に使えない文字（NUL）が含まれています。") from None
    except OSError as error:
        raise CommandError(f"出力先「{target}」を確かめられません（{error.strerror}）。") from None
    if info is None:
        if not target.parent.is_dir():
            raise CommandError(f"出力先のフォルダ「{target.parent}」がありません。先にフォルダを作ってください。")
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
    if stat.S_ISDIR(info.st_mode):
        raise CommandError(f"出力先「{target}」はフォルダです。ファイル名を指定してください。")
    if stat.S_ISLNK(info.st_mode):
        raise CommandError(f"出力先「{target}」はシンボリックリンクです。リンク先のファイル名を指定してください。")
    if not stat.S_ISREG(info.st_mode):
        raise CommandError(
            f"出力先「{target}」は通常のファイルではありません（デバイス・FIFO など）。"
            "新しいファイル名を指定してください。"
        )
    return stat.S_IMODE(info.st_mode)
