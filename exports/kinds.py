"""Every file a job can write, as one declaration per kind: who may ask for it, how its parameters are read
(the same names as the direct download's query string, so a job's file is the direct download's bytes), and the
function that writes it (the same one the direct download streams)."""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from django.urls import reverse
from django.utils.http import urlencode

from accounting.formats import FORMATS as JOURNAL_FORMATS
from accounting.formats import journal_export
from contracts.forms import MonthForm, ReportDownloadForm
from contracts.reports.exports import export_assert_valid, export_response_chunks
from contracts.reports.impact import impact_export_chunks, revision_impact
from core.errors import DomainError
from options.models import TariffRevision

from .choices import ExportKind

Produced = tuple[str, str, Iterator[bytes]]  # (file name, content type, bytes)


@dataclass(frozen=True)
class Kind:
    key: str
    permission: str
    download_url_name: str  # the direct (streamed) download of the same file
    clean: Callable[[Mapping], dict]  # the parameters as stored on the job; a DomainError names what is wrong
    produce: Callable[[dict], Produced]
    back_url: Callable[[dict], str]  # the page the job was asked from

    @property
    def label(self) -> str:
        return ExportKind(self.key).label

    def download_url(self, params: dict) -> str:
        return reverse(self.download_url_name, kwargs=self.url_kwargs(params)) + "?" + urlencode(self.query(params))

    def url_kwargs(self, params: dict) -> dict:
        return {"pk": params["revision"]} if self.key == ExportKind.IMPACT else {}

    def query(self, params: dict) -> dict:
        return {k: v for k, v in params.items() if k != "revision"}


def _form_errors(form) -> str:
    return "、".join(str(e) for errors in form.errors.values() for e in errors)


def _report_clean(data: Mapping) -> dict:
    form = ReportDownloadForm(data)
    if not form.is_valid():
        raise DomainError(f"出力できません: {_form_errors(form)}", code="export_params")
    values = form.export_kwargs()
    export_assert_valid(fmt=values["fmt"], part=values["part"], replacement=values["replacement"])
    params = {"month": f"{values['month']:%Y-%m}", "fmt": values["fmt"]}
    if values["part"]:
        params["part"] = values["part"]
    if values["replacement"]:
        params["replacement"] = values["replacement"]
    return params


def _report_produce(params: dict) -> Produced:
    form = ReportDownloadForm(params)
    if not form.is_valid():
        raise DomainError(f"出力できません: {_form_errors(form)}", code="export_params")
    # Not by COPY: the job inserts its chunks on the connection that reads, and psycopg holds a connection for the
    # whole of a COPY (an INSERT meanwhile would wait for ever). Python writes the same bytes.
    return export_response_chunks(**form.export_kwargs(), by_copy=False)


def _report_back(params: dict) -> str:
    return reverse("contracts:monthly_report") + "?" + urlencode({"month": params["month"]})


def _journal_clean(data: Mapping) -> dict:
    month = _journal_month(data)
    fmt = data.get("fmt", "")
    if fmt not in JOURNAL_FORMATS:
        raise DomainError(
            "仕訳の出力形式は journal-yayoi、journal-freee、journal-mf のいずれかを指定してください。",
            code="unknown_format",
        )
    return {"month": f"{month:%Y-%m}", "fmt": fmt}


def _journal_produce(params: dict) -> Produced:
    return journal_export(month=_journal_month(params), fmt=params["fmt"])


def _journal_month(data: Mapping):
    form = MonthForm(data)
    if not form.is_valid():
        raise DomainError("出力する月を正しく指定してください。", code="export_params")
    return form.cleaned_data["month"]


def _impact_clean(data: Mapping) -> dict:
    try:
        pk = int(data.get("revision", ""))
    except (TypeError, ValueError):
        pk = 0
    revision = TariffRevision.objects.filter(pk=pk).first() if pk > 0 else None
    if revision is None:
        raise DomainError("影響を出力する改定が見つかりません。", code="export_params")
    params = {"revision": pk, "fmt": data.get("fmt") or "csv"}
    if data.get("part"):
        params["part"] = data["part"]
    # Checked as the download checks them (the revision not in force, the format and part); no row is read yet.
    impact_export_chunks(impact=revision_impact(revision=revision), **_impact_args(params))
    return params


def _impact_args(params: dict) -> dict:
    return {"fmt": params["fmt"], "part": params.get("part") or None}


def _impact_produce(params: dict) -> Produced:
    revision = TariffRevision.objects.get(pk=params["revision"])
    return impact_export_chunks(impact=revision_impact(revision=revision), **_impact_args(params))


def _impact_back(params: dict) -> str:
    return reverse("contracts:revision_impact", kwargs={"pk": params["revision"]})


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            ExportKind.REPORT,
            "contracts.export_report",
            "contracts:monthly_report_download",
            _report_clean,
            _report_produce,
            _report_back,
        ),
        Kind(
            ExportKind.JOURNAL,
            "contracts.export_report",
            "accounting:journal_download",
            _journal_clean,
            _journal_produce,
            _report_back,
        ),
        Kind(
            ExportKind.IMPACT,
            "options.preview_tariffrevision",
            "contracts:revision_impact_download",
            _impact_clean,
            _impact_produce,
            _impact_back,
        ),
    )
}

# The direct downloads by view name, for the export log (a list's ?export=csv is ExportKind.LIST).
DOWNLOAD_VIEWS = {kind.download_url_name: kind.key for kind in KINDS.values()}


def kind_of(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError:
        raise DomainError("作成できるファイルの種類ではありません。", code="unknown_kind") from None
