"""Contracts from before the system (DOMAIN §3.13), imported from CSV: all rows or none.

Every row is read and checked first; any error is reported with its line and column and nothing is written.
Then every row is written in one transaction through the same services as admin entry; a refusal there
also rolls everything back. A dry run does all of it and rolls back at the end.
"""

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from contracts.choices import SubscriberKind
from contracts.models import BaseServiceContract, CarrierLineContract, OptionContract, Subscriber
from contracts.selectors import EligibilityMode, GivenBasis, eligibility_evaluate
from core import clock
from core.errors import DomainError
from core.limits import QUANTITY_MAX, YEN_MAX, date_out_of_bounds
from core.text import TextKind, text_problem
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

# The longest text each column may hold: the field it is stored in (or looked up by), else a cap for dates,
# numbers and 区分, so that no cell reaches a parser or the database at any length.
_MAX_LENGTH = {
    "契約者コード": Subscriber._meta.get_field("code").max_length,
    "契約者名": Subscriber._meta.get_field("name").max_length,
    "フリガナ": Subscriber._meta.get_field("kana").max_length,
    "オプションコード": Option._meta.get_field("code").max_length,
    "細目コード": OptionVariant._meta.get_field("code").max_length,
    "基本サービスコード": Service._meta.get_field("code").max_length,
    "基本サービス契約番号": BaseServiceContract._meta.get_field("contract_number").max_length,
    "事業者サービスコード": CarrierService._meta.get_field("code").max_length,
    "回線ID": CarrierLineContract._meta.get_field("line_id").max_length,
}
_OTHER_MAX_LENGTH = 40
# The largest number each numeric column may hold (core.limits).
_NUMBER_MAX = {"数量": QUANTITY_MAX, "見積額": YEN_MAX}
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)

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


def _character_problem(value: str) -> str:
    """Return why `value` cannot be stored as a CSV cell's text ("" when it can): the text rule of every stored
    line of text (core.text), checked before the cell reaches a parser, a lookup or the database."""
    return text_problem(value, kind=TextKind.LINE)


class _RowReader:
    """Read one CSV record's columns, collecting every problem instead of stopping at the first.

    A column is read once: its value (or "" after a refusal) is kept, so a column read by two rules is
    reported once, and a refused text never reaches a lookup.
    """

    def __init__(self, line: int, record: dict[str, str], problems: list[ImportProblem]):
        self.line, self.record, self.problems = line, record, problems
        self._texts: dict[str, str] = {}
        self._refused: set[str] = set()

    def text(self, name: str, *, required: bool = False) -> str:
        if name not in self._texts:
            value = (self.record.get(name) or "").strip()
            # A number's size is the number's rule (integer), not a length.
            limit = None if name in _NUMBER_MAX else _MAX_LENGTH.get(name, _OTHER_MAX_LENGTH)
            problem = _character_problem(value)
            if not problem and limit is not None and len(value) > limit:
                problem = f"{limit}文字以内で入力してください（{len(value):,}文字あります）。"
            if problem:
                self.fail(name, problem)
                self._refused.add(name)
                value = ""
            self._texts[name] = value
        value = self._texts[name]
        if required and not value and name not in self._refused:
            self._refused.add(name)
            self.fail(name, "入力してください。")
        return value

    def refused(self, name: str) -> bool:
        """Whether the column's text was refused already (its problem is reported)."""
        return name in self._refused

    def fail(self, name: str, message: str) -> None:
        self.problems.append(ImportProblem(self.line, name, message))

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.text(name, required=required)
        if not value:
            return None
        try:
            parsed = parse_date(value)
        except WarekiError as error:
            self.fail(name, error.message)
            return None
        problem = date_out_of_bounds(parsed)
        if problem:
            self.fail(name, problem)
            return None
        return parsed

    def integer(self, name: str, *, default: int | None = None) -> int | None:
        value = unicodedata.normalize("NFKC", self.text(name)).replace(",", "")
        if not value:
            return default
        if not _INTEGER.fullmatch(value):
            self.fail(name, f"整数で入力してください（「{value}」）。")
            return None
        digits = value.lstrip("+-").lstrip("0")
        if value.startswith("-") and digits:
            self.fail(name, "0以上の整数で入力してください。")
            return None
        limit = _NUMBER_MAX[name]
        # Compared as digits first: a number of thousands of digits is refused without converting it.
        if len(digits) > len(str(limit)) or int(digits or "0") > limit:
            self.fail(name, f"{limit:,}以下の整数で入力してください。")
            return None
        return int(digits or "0")

    def lookup(self, name: str, model, *, required: bool = False, **filters):
        code = self.text(name, required=required)
        if not code:
            return None
        found = model.objects.filter(code=code, **filters).first()
        if found is None:
            self.fail(name, f"コード「{code}」は登録されていません。")
        return found


def _lone_carriage_return_line(text: str) -> int:
    """Return the line of the first CR not followed by LF (old Mac line endings), or 0 when there is none."""
    at = text.replace("\r\n", "\n\n").find("\r")
    return 0 if at < 0 else text.count("\n", 0, at) + 1


def _csv_problem(line: int, error: csv.Error) -> ImportProblem:
    if "field larger than field limit" in str(error):
        return ImportProblem(line, "", f"欄が長すぎます（1つの欄は{csv.field_size_limit():,}文字まで）。")
    return ImportProblem(line, "", 'CSV の形式が正しくありません。引用符（"）の閉じ忘れなどを確かめてください。')


def _header_problems(header: list[str]) -> list[ImportProblem]:
    problems = [
        ImportProblem(1, name, "見出しにこの列がありません。")
        for name, required, _ in COLUMNS
        if required and name not in header
    ]
    seen: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        problem = _character_problem(name)
        if problem:
            problems.append(ImportProblem(1, f"{number}列目の見出し", problem))
        elif not name:
            problems.append(
                ImportProblem(1, f"{number}列目", "見出しが空です。列名を入れるか、空の列を削除してください。")
            )
        elif name in seen:
            problems.append(
                ImportProblem(1, name, f"同じ列名が{seen[name]}列目にもあります（{number}列目）。1つにしてください。")
            )
        elif name not in COLUMN_NAMES:
            problems.append(ImportProblem(1, name, "知らない列です。列名を確認してください。"))
        seen.setdefault(name, number)
    return problems


def _records(reader: csv.DictReader, problems: list[ImportProblem]):
    """Yield the records; a line the csv module cannot read is a problem, and ends the reading."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The csv module counts the line it failed on only once it has read it whole.
            problems.append(_csv_problem(reader.line_num + 1, error))
            return
        yield record


def _read(text: str) -> tuple[list[_Row], list[ImportProblem]]:
    lone_cr = _lone_carriage_return_line(text)
    if lone_cr:
        message = "改行コードが CR だけの行があります。改行コードを CRLF または LF にして保存してください。"
        return [], [ImportProblem(lone_cr, "", message)]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as error:
        return [], [_csv_problem(1, error)]
    header = [h.strip() for h in fieldnames]
    if not any(header):
        return [], [ImportProblem(1, "", "見出し行がありません。")]
    problems = _header_problems(header)
    if problems:
        return [], problems
    reader.fieldnames = header

    rows: list[_Row] = []
    named = set(Subscriber.objects.values_list("code", flat=True))
    for record in _records(reader, problems):
        if not any((v or "").strip() for k, v in record.items() if k is not None):
            continue  # a blank line
        before = len(problems)
        r = _RowReader(reader.line_num, record, problems)
        if None in record:
            r.fail("", "列の数が見出しより多くなっています。")
        code = r.text("契約者コード", required=True)
        name = r.text("契約者名")
        kana = r.text("フリガナ")
        if code and code not in named and not r.refused("契約者名"):
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
        contract_number = r.text("基本サービス契約番号")
        line_id = r.text("回線ID")
        if carrier_service is not None and not line_id and not r.refused("回線ID"):
            r.fail("回線ID", "事業者サービスコードを指定した行では回線IDが必要です。")
        if option is not None:
            # The contracts themselves are found or made when the row is written, where a basis of the wrong
            # service is refused; here a row that names no basis of the kind its option asks for is.
            given = GivenBasis(service=service, carrier_service=carrier_service)
            result = eligibility_evaluate(
                subscriber=None, option=option, on=contracted_on, mode=EligibilityMode.MIGRATED, given=given
            )
            column = _BASIS_COLUMNS.get(result.kind)
            # a code not registered is refused by its lookup, a hostile cell by its own check
            if result.missing and not r.text(column) and not r.refused(column):
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
                    "kana": kana,
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
                contract_number=contract_number,
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
