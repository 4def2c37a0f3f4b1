"""The export log's one place: every download (a response sent as an attachment) is recorded, whoever made it.

A streamed response is recorded when its stream ends: its bytes are hashed and its rows counted on the way out
(core.downloads.CountedStream; the producers report rows through core.downloads.count_rows). A client that goes
away mid-download is recorded as 中断 with the bytes and rows sent so far and their hash: the record says what
left the server, and the download is visibly not whole. A stream that raises is recorded as 失敗.
"""

import hashlib
from functools import partial

from core.downloads import DONE, CountedStream, RowTally, counting_rows, disposition_filename

from .choices import ExportKind
from .kinds import DOWNLOAD_VIEWS
from .services import export_log_record

LIST_EXPORT = ("export", "csv")  # core.views.TableListMixin's ?export=csv


class ExportLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tally = RowTally()
        with counting_rows(tally):
            response = self.get_response(request)
        if not _is_download(request, response):
            return response
        record = partial(_record, request, response)
        if response.streaming:
            response.streaming_content = CountedStream(response.streaming_content, tally=tally, on_end=record)
        else:
            content = response.content
            record(DONE, hashlib.sha256(content).hexdigest(), len(content), tally.rows)
        return response


def _is_download(request, response) -> bool:
    disposition = response.get("Content-Disposition", "")
    user = getattr(request, "user", None)
    return (
        response.status_code == 200
        and disposition.lower().startswith("attachment")
        and user is not None
        and user.is_authenticated
    )


def _record(request, response, outcome: str, sha256: str, size: int, rows: int) -> None:
    match = request.resolver_match
    view = match.view_name if match else ""
    kind = getattr(response, "export_kind", None) or DOWNLOAD_VIEWS.get(view)
    if kind is None:
        kind = ExportKind.LIST if request.GET.get(LIST_EXPORT[0]) == LIST_EXPORT[1] else ExportKind.OTHER
    params = getattr(response, "export_params", None)
    if params is None:
        params = {key: values[0] if len(values) == 1 else values for key, values in request.GET.lists()}
    job = getattr(response, "export_job", None)
    export_rows = getattr(response, "export_rows", None)
    export_log_record(
        actor=request.user,
        kind=kind,
        view=view[:100],
        path=request.path[:500],
        query=request.META.get("QUERY_STRING", ""),
        params=params,
        job=job,
        filename=disposition_filename(response["Content-Disposition"])[:255],
        content_type=response.get("Content-Type", "")[:100],
        rows=rows if export_rows is None else export_rows,
        size=size,
        sha256=sha256,
        outcome=outcome,
    )
