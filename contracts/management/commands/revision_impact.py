from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contracts.management.output import write_file_atomically
from contracts.reports.impact import FORMATS, PART_LABELS, impact_export_chunks, revision_impact, summary_values
from core.errors import DomainError
from core.formats import yen
from core.wareki import format_date
from options.models import TariffRevision


class Command(BaseCommand):
    help = (
        "改定（下書き、または実施前の公開済み改定）が月額料金に与える影響を試算します。"
        "例: revision_impact 40 --format xlsx --output impact.xlsx（改定は番号または表題で指定）"
    )

    def add_arguments(self, parser):
        parser.add_argument("revision", help="改定の番号（画面の URL の数字）または表題（例: 令和9年4月1日変更）")
        parser.add_argument("--format", dest="fmt", choices=FORMATS, help="ファイルの形式（csv または xlsx）")
        parser.add_argument(
            "--part", choices=sorted(PART_LABELS), help="CSV の内容: contracts（既定）/summary/successions"
        )
        parser.add_argument(
            "--output", help="出力先ファイル（省略時: --format があれば推奨ファイル名、なければ集計の表示のみ）"
        )

    def handle(self, *args, revision, fmt, part, output, **options):
        found = _revision_argument(revision)
        try:
            impact = revision_impact(revision=found)
            if fmt is None and output is None:
                if part is not None:
                    raise DomainError("--part は --format または --output と一緒に指定してください。")
                for _ in impact.contracts():
                    pass
                written_to = ""
            else:
                filename, _type, chunks = impact_export_chunks(impact=impact, fmt=fmt or "csv", part=part)
                target = Path(output or filename)
                written = write_file_atomically(target, chunks)
                written_to = f"{target} に出力しました（{written:,} バイト）。"
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"改定「{found.title}」（実施日 {format_date(found.effective_on)}、{found.get_status_display()}）の影響試算"
        )
        if part != "successions":
            totals = impact.totals
            self.stdout.write(
                f"影響を受ける契約: {totals.contracts}件、料金を計算できなくなる契約: {totals.unpriceable}件"
            )
            for row in summary_values(totals):
                self.stdout.write(_summary_line(row))
        if written_to:
            self.stdout.write(written_to)


def _revision_argument(text: str) -> TariffRevision:
    if "\x00" in text:
        raise CommandError("改定の指定に使えない文字（NUL）が含まれています。")
    revision = None
    if text.isascii() and text.isdigit() and len(text) <= 12:
        revision = TariffRevision.objects.filter(pk=int(text)).first()
    if revision is None:
        revision = TariffRevision.objects.filter(title=text[:200]).order_by("pk").first()
    if revision is None:
        raise CommandError(f"改定「{text[:50]}」が見つかりません。改定の番号または表題を指定してください。")
    return revision


def _summary_line(row: tuple) -> str:
    group, option, kind, month, rate, count, before, after, difference, tax = row
    parts = [group]
    if option:
        parts.append(f"{option}（{kind}）")
    if month is not None:
        parts.append(f"{month:%Y-%m}")
    if rate is not None:
        parts.append(f"税率{rate}%")
    if count is not None:
        parts.append(f"{count}件")
    if before is not None:
        parts.append(f"改定前 {yen(before)} → 改定後 {yen(after)}（差額 {yen(difference)}）")
    if tax is not None:
        parts.append(f"消費税の差額 {yen(tax)}")
    return " ".join(parts)
