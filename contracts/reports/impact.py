"""The impact preview of a revision as staff read and download it: contracts touched, totals, successions.

The figures are `contracts.billing.impact` (the close's own charge code, with and without the revision); this
module only assembles and formats them, in the monthly report's formats and writers: CSV (UTF-8 with BOM,
neutralised cells; one part per file) and XLSX (one sheet per part). Everything streams: the contracts are read in
chunks, and the totals, which need every contract, are written after them.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from contracts.billing.impact import ContractImpact, ImpactTotals, contract_impacts, impact_refusal, impact_window
from contracts.models import OptionContract
from contracts.selectors import succession_contracts
from core import clock
from core.downloads import DownloadName
from core.errors import DomainError
from options.models import Succession, TariffRevision
from options.selectors import revision_compared_with

from .exports import BOM, CONTENT_TYPES, CSV_UTF8, XLSX, csv_lines, report_snapshot
from .layout import DATE, INT, TEXT, YEN, Column
from .xlsx import Sheet, xlsx_chunks

CONTRACTS, SUMMARY, SUCCESSIONS = "contracts", "summary", "successions"
PART_LABELS = {CONTRACTS: "契約別", SUMMARY: "集計", SUCCESSIONS: "承継"}
FORMATS = (CSV_UTF8, XLSX)

CONTRACT_COLUMNS = (
    Column("contract", "オプション契約番号", INT, 12),
    Column("option", "オプション", TEXT, 36),
    Column("variant", "サービス・細目", TEXT, 36),
    Column("state", "実施日の状態", TEXT, 18),
    Column("monthly_before", "月額（改定前）", YEN, 14),
    Column("monthly_after", "月額（改定後）", YEN, 14),
    Column("effect_before", "実施月（改定前）", YEN, 14),
    Column("effect_after", "実施月（改定後）", YEN, 14),
    Column("effect_difference", "実施月の差額", YEN, 14),
    Column("full_before", "全月（改定前）", YEN, 14),
    Column("full_after", "全月（改定後）", YEN, 14),
    Column("full_difference", "全月の差額", YEN, 14),
    Column("note", "備考", TEXT, 40),
)
SUMMARY_COLUMNS = (
    Column("group", "区分", TEXT, 12),
    Column("option", "オプション", TEXT, 36),
    Column("kind", "料金種別", TEXT, 10),
    Column("month", "月", DATE, 11),
    Column("rate", "税率（%）", INT, 8),
    Column("count", "件数", INT, 8),
    Column("before", "改定前（円）", YEN, 14),
    Column("after", "改定後（円）", YEN, 14),
    Column("difference", "差額（円）", YEN, 14),
    Column("tax_difference", "消費税の差額（円）", YEN, 14),
)
SUCCESSION_COLUMNS = (
    Column("contract", "オプション契約番号", INT, 12),
    Column("from_option", "旧オプション", TEXT, 36),
    Column("variant", "サービス・細目", TEXT, 36),
    Column("to_option", "承継先オプション", TEXT, 36),
    Column("effective_on", "承継日", DATE, 11),
    Column("provision", "根拠規定", TEXT, 30),
)


@dataclass(frozen=True)
class SuccessionImpact:
    option_contract_id: int
    from_option: str
    variant: str
    to_option: str
    effective_on: dt.date
    provision: str


@dataclass
class RevisionImpact:
    """The preview of one revision. `contracts()` streams the contracts touched and adds each to `totals`, so the
    totals are complete once it has been read to the end."""

    revision: TariffRevision
    compared_with: TariffRevision | None
    totals: ImpactTotals
    chunk_size: int = 2000
    _read: bool = field(default=False, repr=False)

    @property
    def window(self):
        return self.totals.window

    def contracts(self) -> Iterator[ContractImpact]:
        if self._read:
            raise RuntimeError("a preview's contracts are read once")
        self._read = True
        for impact in contract_impacts(revision=self.revision, chunk_size=self.chunk_size):
            self.totals.add(impact)
            yield impact

    def successions(self) -> Iterator[SuccessionImpact]:
        for succession in Succession.objects.filter(revision=self.revision).select_related("from_option", "to_option"):
            contracts: Iterator[OptionContract] = succession_contracts(succession).iterator(chunk_size=2000)
            for contract in contracts:
                yield SuccessionImpact(
                    contract.pk,
                    succession.from_option.name,
                    contract.variant.name,
                    succession.to_option.name,
                    succession.effective_on,
                    succession.provision,
                )


def revision_impact(*, revision: TariffRevision, chunk_size: int = 2000) -> RevisionImpact:
    """Return the preview of `revision`; a revision already in force is refused (DomainError)."""
    refusal = impact_refusal(revision, today=clock.today())
    if refusal is not None:
        raise refusal
    return RevisionImpact(
        revision, revision_compared_with(revision), ImpactTotals(impact_window(revision)), chunk_size=chunk_size
    )


# --- rows --------------------------------------------------------------------------------------------------


def contract_values(impact: ContractImpact) -> tuple:
    note = impact.becomes_unpriceable.message if impact.becomes_unpriceable else ""
    return (
        impact.option_contract_id,
        impact.option_name,
        impact.variant_name,
        impact.state_label,
        impact.monthly_before_yen,
        impact.monthly_after_yen,
        impact.effect_month_before_yen,
        impact.effect_month_after_yen,
        impact.effect_month_difference_yen,
        impact.full_month_before_yen,
        impact.full_month_after_yen,
        impact.full_month_difference_yen,
        note,
    )


def summary_values(totals: ImpactTotals) -> Iterator[tuple]:
    """集計: per option × fee kind for each month shown, then per month × tax rate, then the unpriceable count."""
    window = totals.window
    for total in totals.options:
        months = [(window.effect_month, total.effect_month_before_yen, total.effect_month_after_yen)]
        if window.full_month != window.effect_month:
            months.append((window.full_month, total.full_month_before_yen, total.full_month_after_yen))
        for month, before, after in months:
            yield ("オプション別", total.option_name, total.kind_label, month, None, total.contracts, before, after,
                   after - before, None)  # fmt: skip
    for rate in totals.rates:
        yield ("税率別", "", "", rate.month, rate.rate_percent, None, rate.before_yen, rate.after_yen,
               rate.difference_yen, rate.tax_difference_yen)  # fmt: skip
    if totals.unpriceable:
        yield ("計算不能", "", "", None, None, totals.unpriceable, None, None, None, None)


def succession_values(move: SuccessionImpact) -> tuple:
    return (move.option_contract_id, move.from_option, move.variant, move.to_option, move.effective_on, move.provision)


# --- files -------------------------------------------------------------------------------------------------


def impact_export_chunks(
    *, impact: RevisionImpact, fmt: str = CSV_UTF8, part: str | None = None
) -> tuple[str, str, Iterator[bytes]]:
    """Return (filename, content type, bytes iterator) of the preview in `fmt`; bad arguments raise before the
    first byte (DomainError). Once the bytes are read, `impact.totals` holds the totals (unless the part is the
    successions alone)."""
    if fmt not in FORMATS:
        raise DomainError("「出力形式」は csv、xlsx のいずれかを指定してください。", code="unknown_format")
    if fmt == XLSX and part is not None:
        raise DomainError("XLSX は契約別・集計・承継の3シートをまとめて出力します（「出力内容」は指定できません）。")
    part = part or CONTRACTS
    if part not in PART_LABELS:
        raise DomainError(
            "CSV の「出力内容」は contracts（契約別）、summary（集計）、successions（承継）のいずれかです。"
        )
    revision = impact.revision
    head = f"改定の影響試算_{revision.title}"
    if fmt == XLSX:
        name = DownloadName(f"revision-impact-{revision.pk}.xlsx", japanese=f"{head}.xlsx")
        return name, CONTENT_TYPES[XLSX], _xlsx(impact)
    name = DownloadName(f"revision-impact-{revision.pk}-{part}.csv", japanese=f"{head}_{PART_LABELS[part]}.csv")
    return name, CONTENT_TYPES[CSV_UTF8], _csv(impact, part)


def _csv(impact: RevisionImpact, part: str) -> Iterator[bytes]:
    with report_snapshot():
        yield BOM
        if part == CONTRACTS:
            lines = csv_lines(CONTRACT_COLUMNS, map(contract_values, impact.contracts()))
        elif part == SUMMARY:
            lines = csv_lines(SUMMARY_COLUMNS, _after_contracts(impact))
        else:
            lines = csv_lines(SUCCESSION_COLUMNS, map(succession_values, impact.successions()))
        for text in lines:
            yield text.encode()


def _after_contracts(impact: RevisionImpact) -> Iterator[tuple]:
    for _ in impact.contracts():
        pass
    yield from summary_values(impact.totals)


def _xlsx(impact: RevisionImpact) -> Iterator[bytes]:
    with report_snapshot():
        sheets = [
            Sheet("契約別", CONTRACT_COLUMNS, map(contract_values, impact.contracts())),
            # Written once every contract has been read, so the totals are whole.
            Sheet("集計", SUMMARY_COLUMNS, _lazy_summary(impact)),
            Sheet("承継", SUCCESSION_COLUMNS, map(succession_values, impact.successions())),
        ]
        modified = clock.now().astimezone(clock.JST).replace(tzinfo=None)
        yield from xlsx_chunks(sheets, modified=modified)


def _lazy_summary(impact: RevisionImpact) -> Iterator[tuple]:
    yield from summary_values(impact.totals)
