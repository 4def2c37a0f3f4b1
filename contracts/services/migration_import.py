"""Contracts from before the system (DOMAIN §3.13), imported from CSV: all rows or none.

Every row is read and checked first; any error is reported with its line and column and nothing is written.
Then every row is written in one transaction through the same services as admin entry; a refusal there
also rolls everything back. A dry run does all of it and rolls back at the end.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from contracts.choices import SubscriberKind
from contracts.models import CarrierLineContract, OptionContract, Subscriber
from contracts.selectors import EligibilityMode, GivenBasis, eligibility_evaluate
from core import clock
from core.errors import DomainError
from core.wareki import WarekiError, parse_date
from options.choices import EligibilityKind
from options.models import CarrierService, Option, OptionVariant, Service
from options.selectors import option_retired_refusal

from .audit import require_permission
from .base_contracts import base_contract_create
from .carrier_lines import carrier_line_create
from .option_contracts import option_contract_register_migrated
from .subscribers import subscriber_create
from .terms import terms_assert_quantity

# (column, required, what it holds) — the command's help and docs/import_contracts.md list the same.
COLUMNS: list[tuple[str, bool, str]] = [
    ("契約者コード", True, "契約者のコード。未登録なら契約者を作成します"),
    ("契約者名", False, "契約者を新しく作成する行では必須"),
    ("フリガナ", False, "契約者を新しく作成するときに使います"),
    ("区分", False, "法人 または 個人（省略時は法人）"),
    ("オプションコード", True, "例: b-flets、flets-hikari、swp-accounts、ipv6"),
    ("細目コード", True, "サービス・細目のコード。例: type-a、type-e、additional-accounts、fiberaccess-f"),
    ("数量", False, "1以上の整数（省略時は1）。追加アカウントは10の倍数"),
    ("見積額", False, "タイプA など個別見積の月額（円、0以上の整数）"),
    ("契約成立日", True, "和暦（平成22年4月1日、H22.4.1）または西暦（2010-04-01）"),
    ("課金開始日", False, "課金中の契約の課金開始日"),
    ("解約日", False, "解約済みの契約の最終利用日"),
    ("基本サービスコード", False, "第3条・第5条のオプションで必須。例: web-highgrade2、fiberaccess-f"),
    ("基本サービス契約番号", False, "既存の基本サービス契約を番号で探し、なければこの番号で作成します"),
    ("基本サービス利用開始日", False, "基本サービス契約を作成するときの利用開始日（省略時は契約成立日）"),
    ("事業者サービスコード", False, "第1条のオプションで必須。例: b-flets、flets-next-prio1"),
    ("回線ID", False, "事業者回線契約の回線ID・お客様ID（事業者サービスコードを指定した行では必須）"),
    ("回線利用開始日", False, "事業者回線契約を作成するときの利用開始日（省略時は契約成立日）"),
]
COLUMN_NAMES = [name for name, _, _ in COLUMNS]
# The column that names the basis of each kind of 利用の条件.
_BASIS_COLUMNS = {
    EligibilityKind.SERVICE_CONTRACT: "基本サービスコード",
    EligibilityKind.CARRIER_LINE: "事業者サービスコード",
}
_KINDS = {"法人": SubscriberKind.CORPORATE, "個人": SubscriberKind.INDIVIDUAL}

# Which column a refusal of a service is about, by its DomainError code.
_FIELD_OF_CODE = {
    "not_whole_blocks": "数量",
    "quantity_not_positive": "数量",
    "quote_invalid": "見積額",
    "billing_before_contract": "課金開始日",
    "end_before_start": "解約日",
    "basis_after_contract": "契約成立日",
    "variant_mismatch": "細目コード",
    "line_id_required": "回線ID",
}


@dataclass(frozen=True)
class ImportProblem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.line}行目" + (f"「{self.field}」" if self.field else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ImportedRow:
    line: int
    summary: str
    skipped: bool = False

    def __str__(self) -> str:
        return f"{self.line}行目: {'登録済みのためスキップ' if self.skipped else '登録'} {self.summary}"


@dataclass
class ImportReport:
    rows: list[ImportedRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def registered(self) -> int:
        return sum(1 for r in self.rows if not r.skipped)


@dataclass
class _Row:
    line: int
    subscriber_code: str
    subscriber_fields: dict
    option: Option
    variant: OptionVariant
    quantity: int
    quoted_amount_yen: int | None
    contracted_on: dt.date
    billing_start_date: dt.date | None
    end_date: dt.date | None
    service: Service | None
    contract_number: str
    service_start: dt.date | None
    carrier_service: CarrierService | None
    line_id: str
    line_start: dt.date | None


class _RowReader:
    """Read one CSV record's columns, collecting every problem instead of stopping at the first."""

    def __init__(self, line: int, record: dict[str, str], problems: list[ImportProblem]):
        self.line, self.record, self.problems = line, record, problems

    def text(self, name: str, *, required: bool = False) -> str:
        value = (self.record.get(name) or "").strip()
        if required and not value:
            self.fail(name, "入力してください。")
        return value

    def fail(self, name: str, message: str) -> None:
        self.problems.append(ImportProblem(self.line, name, message))

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.text(name, required=required)
        if not value:
            return None
        try:
            return parse_date(value)
        except WarekiError as error:
            self.fail(name, error.message)
            return None

    def integer(self, name: str, *, default: int | None = None) -> int | None:
        value = self.text(name).replace(",", "")
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            self.fail(name, f"整数で入力してください（「{value}」）。")
            return None
        if number < 0:
            self.fail(name, "0以上の整数で入力してください。")
            return None
        return number

    def lookup(self, name: str, model, *, required: bool = False, **filters):
        code = self.text(name, required=required)
        if not code:
            return None
        found = model.objects.filter(code=code, **filters).first()
        if found is None:
            self.fail(name, f"コード「{code}」は登録されていません。")
        return found


def _read(text: str) -> tuple[list[_Row], list[ImportProblem]]:
    problems: list[ImportProblem] = []
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        return [], [ImportProblem(1, "", "見出し行がありません。")]
    reader.fieldnames = header
    for name, required, _ in COLUMNS:
        if required and name not in header:
            problems.append(ImportProblem(1, name, "見出しにこの列がありません。"))
    for name in header:
        if name not in COLUMN_NAMES:
            problems.append(ImportProblem(1, name, "知らない列です。列名を確認してください。"))
    if problems:
        return [], problems

    rows: list[_Row] = []
    named = set(Subscriber.objects.values_list("code", flat=True))
    for record in reader:
        if not any((v or "").strip() for k, v in record.items() if k is not None):
            continue  # a blank line
        before = len(problems)
        r = _RowReader(reader.line_num, record, problems)
        if None in record:
            r.fail("", "列の数が見出しより多くなっています。")
        code = r.text("契約者コード", required=True)
        name = r.text("契約者名")
        if code and code not in named:
            if name:
                named.add(code)
            else:
                r.fail("契約者名", f"契約者「{code}」は未登録のため、契約者名が必要です。")
        kind_label = r.text("区分")
        if kind_label and kind_label not in _KINDS:
            r.fail("区分", "「法人」または「個人」を入力してください。")
        option = r.lookup("オプションコード", Option, required=True)
        variant = None
        if option is not None:
            variant = r.lookup("細目コード", OptionVariant, required=True, option=option)
        else:
            r.text("細目コード", required=True)
        quantity = r.integer("数量", default=1)
        if quantity == 0:
            r.fail("数量", "1以上の整数で入力してください。")
        elif quantity and variant is not None:
            try:
                terms_assert_quantity(option=option, variant=variant, quantity=quantity, on=clock.today())
            except DomainError as error:
                r.fail("数量", str(error))
        quoted = r.integer("見積額")
        contracted_on = r.date("契約成立日", required=True)
        if option is not None and contracted_on is not None:
            refusal = option_retired_refusal(option=option, on=contracted_on)
            if refusal is not None:
                r.fail("契約成立日", str(refusal))
        billing = r.date("課金開始日")
        end = r.date("解約日")
        service = r.lookup("基本サービスコード", Service)
        carrier_service = r.lookup("事業者サービスコード", CarrierService)
        line_id = r.text("回線ID")
        if carrier_service is not None and not line_id:
            r.fail("回線ID", "事業者サービスコードを指定した行では回線IDが必要です。")
        if option is not None:
            # The contracts themselves are found or made when the row is written, where a basis of the wrong
            # service is refused; here a row that names no basis of the kind its option asks for is.
            given = GivenBasis(service=service, carrier_service=carrier_service)
            result = eligibility_evaluate(
                subscriber=None, option=option, on=contracted_on, mode=EligibilityMode.MIGRATED, given=given
            )
            column = _BASIS_COLUMNS.get(result.kind)
            if result.missing and not r.text(column):  # a code not registered is refused by its lookup
                r.fail(column, f"{option.name}では{column}が必要です（{result.article}）。")
        service_start = r.date("基本サービス利用開始日")
        line_start = r.date("回線利用開始日")
        if len(problems) > before:
            continue
        rows.append(
            _Row(
                line=r.line,
                subscriber_code=code,
                subscriber_fields={
                    "name": name,
                    "kana": r.text("フリガナ"),
                    "kind": _KINDS.get(kind_label, SubscriberKind.CORPORATE),
                },
                option=option,
                variant=variant,
                quantity=quantity,
                quoted_amount_yen=quoted,
                contracted_on=contracted_on,
                billing_start_date=billing,
                end_date=end,
                service=service,
                contract_number=r.text("基本サービス契約番号"),
                service_start=service_start,
                carrier_service=carrier_service,
                line_id=line_id,
                line_start=line_start,
            )
        )
    if not rows and not problems:
        problems.append(ImportProblem(1, "", "取り込む行がありません。"))
    return rows, problems


def _already_registered(subscriber: Subscriber, row: _Row) -> OptionContract | None:
    """The same contract imported before, possibly moved since to the successor option."""
    return (
        subscriber.option_contracts.filter(
            migrated=True, contracted_on=row.contracted_on, variant__code=row.variant.code
        )
        .filter(Q(option=row.option) | Q(succession__from_option=row.option))
        .first()
    )


def _write(row: _Row, *, actor, source: str) -> ImportedRow:
    reason = f"移行データの取込（{source} {row.line}行目）"
    subscriber = Subscriber.objects.filter(code=row.subscriber_code).first()
    if subscriber is None:
        subscriber = subscriber_create.joined(
            actor=actor, reason=reason, code=row.subscriber_code, **row.subscriber_fields
        )
    summary = f"{subscriber} {row.option.name} / {row.variant.name}"
    existing = _already_registered(subscriber, row)
    if existing is not None:
        return ImportedRow(row.line, f"{summary}（契約 #{existing.pk}）", skipped=True)

    base_contract = carrier_line = None
    if row.service is not None:
        found = subscriber.base_contracts.filter(service=row.service)
        found = found.filter(contract_number=row.contract_number) if row.contract_number else found
        base_contract = found.order_by("start_date", "pk").first() or base_contract_create.joined(
            subscriber=subscriber,
            service=row.service,
            start_date=row.service_start or row.contracted_on,
            contract_number=row.contract_number,
            actor=actor,
            migrated=True,
            reason=reason,
        )
    if row.carrier_service is not None:
        carrier_line = CarrierLineContract.objects.filter(
            subscriber=subscriber, carrier_service=row.carrier_service, line_id=row.line_id
        ).first() or carrier_line_create.joined(
            subscriber=subscriber,
            carrier_service=row.carrier_service,
            line_id=row.line_id,
            start_date=row.line_start or row.contracted_on,
            actor=actor,
            migrated=True,
            reason=reason,
        )
    contract = option_contract_register_migrated.joined(
        subscriber=subscriber,
        option=row.option,
        variant=row.variant,
        contracted_on=row.contracted_on,
        quantity=row.quantity,
        quoted_amount_yen=row.quoted_amount_yen,
        billing_start_date=row.billing_start_date,
        end_date=row.end_date,
        base_contract=base_contract,
        carrier_line=carrier_line,
        actor=actor,
        reason=reason,
    )
    return ImportedRow(row.line, f"{summary}（契約 #{contract.pk}、{contract.get_status_display()}）")


@transaction.atomic(durable=True)
def option_contracts_import(*, text: str, actor, dry_run: bool = False, source: str = "CSV") -> ImportReport:
    """Register the migrated contracts of a CSV text (UTF-8, header row first); all rows or none."""
    # Checked before any row: a refusal is not a row's problem. A row may create each of these records.
    require_permission(
        actor,
        "contracts.add_subscriber",
        "contracts.add_baseservicecontract",
        "contracts.add_carrierlinecontract",
        "contracts.add_optioncontract",
        action="移行データを取り込む",
    )
    report = ImportReport(dry_run=dry_run)
    rows, report.problems = _read(text)
    if report.problems:
        return report
    for row in rows:
        try:
            with transaction.atomic():
                report.rows.append(_write(row, actor=actor, source=source))
        except DomainError as error:
            report.problems.append(ImportProblem(row.line, _FIELD_OF_CODE.get(error.code, ""), str(error)))
    if report.problems or dry_run:
        transaction.set_rollback(True)
    return report
