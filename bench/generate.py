"""The full-scale book (issue 14), built set-based on PostgreSQL in minutes, for the page and report benchmarks.

    .venv/bin/python bench/generate.py --scale 0.01 --database-url postgres://postgres@127.0.0.1:5432/book_1pct
    nice .venv/bin/python bench/generate.py --database-url postgres://postgres@127.0.0.1:5432/book_full

Drops and recreates the named database (whose name must say bench or book, or give --force), migrates, loads the
regulation and the demo staff (their published demo
password: the page benchmark logs in as them), then writes with INSERT … SELECT over generate_series, per 200,000
subscribers (scale 1):

- 200,000 subscribers (法人 and 個人, kanji names, katakana フリガナ, phone numbers, their search key);
- 420,000 base contracts (2 each, a third for one in ten) and ~667,000 carrier lines (3 each, 4 for one in three);
- ~900,000 option contracts, only of the options the regulation prices (the close refuses a contract in billing it
  cannot price): フレッツ光 on every line of its carrier services, SWP on every Web ハイグレード2/スタンダード2 base
  contract, IPv6 on every FiberAccess/F one, and an ended フレッツ光 contract on the first line of every fourth
  subscriber; one in five made by an approved 新規利用申込 (one in fifty approved lately, waiting for its billing
  start), the others migrated and confirmed; each with its terms (one period, as approval or migration set it);
- ~250,000 applications: the approved 新規利用申込 of those contracts, an approved 解約申込 for every ended one,
  and 新規・変更・解約申込 waiting (受付 / 審査中) that can be approved on screen;
- the ledger: the 月額費用 row of every billing start, then, month by month for the five months before the current
  one (those in which the fees are in force), the close's charge rows (~830,000 a month, written by 経理) and its
  MonthClose with the watermarks the close takes; one in a thousand of the last month's charges reversed by the
  承認者 (the next close's adjustments);
- history rows as the services write them: '+' for every record created (the application's as received), '~' for
  each later step (審査開始, the decision, the billing start, the confirmation), with their reasons and actors.

Ids are given explicitly (the database is new), so every foreign key is known without a lookup; the identity
sequences are moved past them at the end. Only INSERTs: the ledger's append-only guard and its reversal check
stand. Then VACUUM ANALYZE (what autovacuum would have done to a book that grew over years) and each closed month's
集計 stored through its service, as 経理's first look after a close would.
"""

import argparse
import datetime as dt
import os
import sys
import time

import harness

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/backoffice_book"
CLOSED_MONTHS = 5

SURNAMES = [
    ("山田", "ヤマダ"),
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山本", "ヤマモト"),
    ("佐々木", "ササキ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("前田", "マエダ"),
]
GIVEN = [
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("美咲", "ミサキ"),
    ("健", "ケン"),
    ("陽子", "ヨウコ"),
    ("大輔", "ダイスケ"),
    ("翔", "ショウ"),
    ("愛", "アイ"),
    ("誠", "マコト"),
    ("直樹", "ナオキ"),
    ("由美", "ユミ"),
    ("拓也", "タクヤ"),
    ("恵", "メグミ"),
    ("亮", "リョウ"),
]
TRADES = [("商事", "ショウジ"), ("工業", "コウギョウ"), ("物産", "ブッサン"), ("建設", "ケンセツ"), ("電機", "デンキ")]
# Which option a carrier line or a base contract carries, by the code of its carrier service / service.
LINE_OPTIONS = {"flets-next-prio1": "flets-hikari", "collabo-hikari": "flets-hikari"}
BASE_OPTIONS = {"web-highgrade2": "swp-accounts", "web-standard2": "swp-accounts", "fiberaccess-f": "ipv6"}
# The carrier services and services of the k-th line / base contract of subscriber i: [(i + k) % 8]. Only the
# options the regulation prices (a monthly fee item in force) are held: the close refuses a contract in billing it
# cannot price, so lines of the other carrier services and the account services' base contracts hold none.
LINE_SERVICES = ["flets-next-prio1", "collabo-hikari", "flets-next-prio1", "collabo-hikari", "flets-next-prio1",
                 "collabo-hikari", "b-flets", "packetwin"]  # fmt: skip
BASE_SERVICES = ["web-highgrade2", "web-standard2", "fiberaccess-f", "web-highgrade2", "web-standard2",
                 "fiberaccess-f", "web-highgrade2", "account-type-a"]  # fmt: skip


def clock_next_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _months_before(month: dt.date, count: int) -> list[dt.date]:
    months = []
    for _ in range(count):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        months.append(month)
    return list(reversed(months))


def _array(values) -> str:
    return "(ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


class Book:
    def __init__(self, cursor, *, subscribers: int, log):
        from django.contrib.auth import get_user_model
        from django.db.models import Min

        from core import clock
        from core.history_write import system_user
        from options.models import CarrierService, OptionVariant, Service, TariffRevision

        self.cursor, self.n, self.log = cursor, subscribers, log
        users = {
            u.username: u.pk for u in get_user_model().objects.filter(username__in=["uketsuke", "shonin", "keiri"])
        }
        self.clerk, self.approver, self.accounting = users["uketsuke"], users["shonin"], users["keiri"]
        self.system = system_user().pk
        self.today = clock.today()
        # The closed months: the five before this one in which the monthly fees are in force (the regulation's
        # fee items are of one revision; a month before it could not be priced, so it was never closed).
        fees_from = TariffRevision.objects.filter(fee_items__kind="monthly").aggregate(m=Min("effective_on"))["m"]
        self.months = [m for m in _months_before(clock.month_start(self.today), CLOSED_MONTHS) if m >= fees_from]
        if not self.months:
            raise SystemExit(f"{self.today} の前の月には月額費用が施行されていません（{fees_from} 施行）。")
        # Contracts are made in the 900 days before the first closed month, so each closed month bills them whole.
        self.epoch = self.months[0] - dt.timedelta(days=900)
        self.cs = {c.code: c.pk for c in CarrierService.objects.all()}
        self.services = {s.code: s.pk for s in Service.objects.all()}
        self.variants = {}  # option code → [variant id, …] in id order
        for v in OptionVariant.objects.select_related("option").order_by("pk"):
            self.variants.setdefault(v.option.code, []).append((v.pk, v.option_id))

    def one(self, statement: str):
        self.cursor.execute(statement)
        return self.cursor.fetchone()[0]

    def sql(self, label: str, statement: str, params=None) -> int:
        started = time.perf_counter()
        self.cursor.execute(statement, params)
        self.log(f"  {label}: {self.cursor.rowcount:,} rows, {time.perf_counter() - started:.1f} s")
        return self.cursor.rowcount

    def history(self, model, *, where: str, date: str, reason: str, kind: str, user: str, alias="t", overrides=None):
        """Write one history row per row of `model` selected by `where`, as simple_history would have."""
        table = model._meta.db_table
        history_model = model.history.model
        columns = [f.column for f in history_model._meta.concrete_fields if not f.name.startswith("history_")]
        values = [(overrides or {}).get(c, f"{alias}.{c}") for c in columns]
        return self.sql(
            f"history of {table} ({kind})",
            f"""
            INSERT INTO {history_model._meta.db_table} ({", ".join(columns)}, history_date, history_change_reason,
                history_type, history_user_id)
            SELECT {", ".join(values)}, {date}, {reason}, '{kind}', {user}
            FROM {table} {alias} WHERE {where} ORDER BY {alias}.id
            """,
        )

    def subscribers(self):
        from contracts.models import Subscriber

        sur, sur_kana = _array(s for s, _ in SURNAMES), _array(k for _, k in SURNAMES)
        given, given_kana = _array(g for g, _ in GIVEN), _array(k for _, k in GIVEN)
        trade, trade_kana = _array(t for t, _ in TRADES), _array(k for _, k in TRADES)
        self.sql(
            "subscribers",
            f"""
            INSERT INTO contracts_subscriber (id, code, name, kana, kind, email, phone, address, note, is_active,
                created_at, search_key)
            SELECT i, code, name, kana, kind, 'info' || i || '@example.jp', phone,
                   '東京都千代田区大手町' || (i %% 9 + 1)
                   || '-' || (i %% 30 + 1), '', true, TIMESTAMPTZ %(epoch)s + (i * interval '6 minutes'),
                   lower(code) || ' ' || name || ' ' || replace(kana, ' ', '') || ' ' || replace(phone, '-', '')
            FROM (
                SELECT i, 'S' || lpad(i::text, 7, '0') AS code,
                       CASE WHEN i %% 3 = 0 THEN {sur}[i %% 25 + 1] || {given}[i / 25 %% 15 + 1]
                            ELSE '株式会社' || {sur}[i %% 25 + 1] || {trade}[i / 25 %% 5 + 1] || (i / 125) END AS name,
                       CASE WHEN i %% 3 = 0 THEN {sur_kana}[i %% 25 + 1] || ' ' || {given_kana}[i / 25 %% 15 + 1]
                            ELSE 'カブシキガイシャ ' || {sur_kana}[i %% 25 + 1]
                                 || {trade_kana}[i / 25 %% 5 + 1] END AS kana,
                       CASE WHEN i %% 3 = 0 THEN 'individual' ELSE 'corporate' END AS kind,
                       '0' || (3 + i %% 7) || '-' || lpad((i / 10000 %% 10000)::text, 4, '0') || '-'
                           || lpad((i %% 10000)::text, 4, '0') AS phone
                FROM generate_series(1, %(n)s) AS i
            ) s
            """,
            {"n": self.n, "epoch": f"{self.epoch - dt.timedelta(days=400)} 09:00+09"},
        )
        self.history(
            Subscriber, where="true", date="t.created_at", reason="'契約者の登録'", kind="+", user=str(self.clerk)
        )

    def _service_case(self, names: list[str], ids: dict, expr: str) -> str:
        return f"{_array(str(ids[n]) for n in names)}[{expr} %% 8 + 1]::bigint"

    def bases_and_lines(self):
        from contracts.models import BaseServiceContract, CarrierLineContract

        self.sql(
            "base contracts",
            f"""
            INSERT INTO contracts_baseservicecontract (id, subscriber_id, service_id, contract_number, start_date,
                end_date, migrated)
            SELECT row_number() OVER (ORDER BY i, k), i,
                   CASE WHEN k = 2 THEN %(web)s
                        ELSE {self._service_case(BASE_SERVICES, self.services, "(i + k)")} END,
                   'K' || lpad(i::text, 7, '0') || '-' || k, DATE %(epoch)s - 400 + (i %% 390), NULL, true
            FROM generate_series(1, %(n)s) AS i CROSS JOIN generate_series(0, 2) AS k
            WHERE k < 2 OR i %% 10 = 5
            """,
            {"n": self.n, "epoch": self.epoch, "web": self.services["fiberaccess-f"]},
        )
        self.sql(
            "carrier lines",
            f"""
            INSERT INTO contracts_carrierlinecontract (id, subscriber_id, carrier_service_id, line_id, start_date,
                end_date, confirmed_by_id, confirmed_at, migrated)
            SELECT row_number() OVER (ORDER BY i, k), i, {self._service_case(LINE_SERVICES, self.cs, "(i + k)")},
                   'CAF' || lpad((i * 4 + k)::text, 10, '0'), DATE %(epoch)s - 400 + (i %% 390), NULL, %(approver)s,
                   TIMESTAMPTZ %(stamp)s + (i * interval '6 minutes'), true
            FROM generate_series(1, %(n)s) AS i CROSS JOIN generate_series(0, 3) AS k
            WHERE k < 3 OR i %% 3 = 0
            """,
            {"n": self.n, "epoch": self.epoch, "approver": self.approver, "stamp": f"{self.epoch} 10:00+09"},
        )
        for model, reason in (
            (BaseServiceContract, "基本サービス契約の登録"),
            (CarrierLineContract, "事業者回線契約の登録"),
        ):
            self.history(
                model,
                where="true",
                date=f"TIMESTAMPTZ '{self.epoch} 09:00+09' + (t.subscriber_id * interval '6 minutes')",
                reason=f"'{reason}'",
                kind="+",
                user=str(self.clerk),
            )

    def option_contracts(self):
        """Stage every option contract with its id, option, variant, price and application, then write them."""
        self.cursor.execute("ANALYZE contracts_carrierlinecontract, contracts_baseservicecontract")
        line_map = ", ".join(
            f"({self.cs[cs]}, {self.variants[opt][0][1]}, {self.variants[opt][0][0]}, {self.variants[opt][-1][0]})"
            for cs, opt in LINE_OPTIONS.items()
        )
        base_map = ", ".join(
            f"({self.services[svc]}, {self.variants[opt][0][1]}, {self.variants[opt][0][0]}, "
            f"{self.variants[opt][-1][0]})"
            for svc, opt in BASE_OPTIONS.items()
        )
        recent = self.today - dt.timedelta(days=20)
        self.sql(
            "stage option contracts",
            f"""
            CREATE TEMP TABLE gen_oc AS
            WITH src AS (
                SELECT l.subscriber_id AS sub, NULL::bigint AS base_id, l.id AS line_id, m.option_id,
                       CASE WHEN l.id %% 3 = 0 THEN m.first_variant ELSE m.last_variant END AS variant_id,
                       false AS ended, 0 AS ord, l.id AS basis
                FROM contracts_carrierlinecontract l JOIN (VALUES {line_map}) m (cs, option_id, first_variant,
                    last_variant) ON m.cs = l.carrier_service_id
                UNION ALL
                SELECT b.subscriber_id, b.id, NULL, m.option_id, m.first_variant, false, 1, b.id
                FROM contracts_baseservicecontract b JOIN (VALUES {base_map}) m (svc, option_id, first_variant,
                    last_variant) ON m.svc = b.service_id
                WHERE b.contract_number NOT LIKE '%%-2'  -- the third is where a 新規利用申込 waits (below)
                UNION ALL
                SELECT l.subscriber_id, NULL, l.id, m.option_id,
                       CASE WHEN l.id %% 3 = 0 THEN m.first_variant ELSE m.last_variant END, true, 2, l.id
                FROM contracts_carrierlinecontract l JOIN (VALUES {line_map}) m (cs, option_id, first_variant,
                    last_variant) ON m.cs = l.carrier_service_id
                WHERE l.subscriber_id %% 4 = 0
                  AND substring(l.line_id from 4)::bigint %% 4 = 0  -- its first line (k = 0)
            ), numbered AS (
                SELECT row_number() OVER (ORDER BY sub, ord, basis) AS id, src.* FROM src
            ), shaped AS (
                SELECT n.*,
                       NOT n.ended AND n.id %% 5 = 0 AS applied,
                       NOT n.ended AND n.id %% 50 = 0 AS waiting,
                       CASE WHEN n.ended THEN DATE %(epoch)s + (n.id %% 300)::int
                            WHEN n.id %% 50 = 0 THEN DATE %(recent)s + (n.id %% 15)::int
                            ELSE DATE %(epoch)s + (n.id * 7 %% 800)::int END AS contracted_on,
                       CASE WHEN v.pricing = 'per_block' THEN 10 * (1 + n.id %% 5)::int ELSE 1 END AS quantity,
                       CASE WHEN v.pricing = 'quoted' THEN 1000 * (1 + n.id %% 5)::int END AS quoted,
                       v.fee_id, v.pricing, v.amount_yen, v.block_size, v.revision_id, v.article
                FROM numbered n LEFT JOIN (
                    SELECT DISTINCT ON (f.variant_id) f.variant_id, f.id AS fee_id, f.pricing, f.amount_yen,
                           f.block_size, f.revision_id, f.article
                    FROM options_feeitem f JOIN options_tariffrevision r ON r.id = f.revision_id
                    WHERE f.kind = 'monthly' AND r.status = 'published' AND NOT f.discontinued
                    ORDER BY f.variant_id, f.revision_id DESC
                ) v ON v.variant_id = n.variant_id
            )
            SELECT s.*,
                   CASE WHEN s.waiting THEN NULL ELSE s.contracted_on + 10 END AS billing_start,
                   CASE WHEN s.ended THEN DATE %(first_month)s - 30 - (s.id %% 60)::int END AS end_date,
                   CASE WHEN s.fee_id IS NULL THEN NULL
                        WHEN s.pricing = 'quoted' THEN s.quoted
                        WHEN s.pricing = 'per_block' THEN s.amount_yen * ((s.quantity + s.block_size - 1)
                                                                           / s.block_size)
                        ELSE s.amount_yen END AS monthly_yen,
                   CASE WHEN s.pricing = 'per_block' THEN (s.quantity + s.block_size - 1) / s.block_size END
                       AS blocks,
                   (TIMESTAMPTZ %(midnight)s + (s.contracted_on - DATE '2000-01-01') * interval '1 day'
                       + interval '10 hours' + (s.id %% 480) * interval '1 minute') AS decided_at
            FROM shaped s
            """,
            {
                "epoch": self.epoch,
                "recent": recent,
                "first_month": self.months[0],
                "midnight": "2000-01-01 00:00+09",
            },
        )
        self.cursor.execute("CREATE UNIQUE INDEX ON gen_oc (id)")
        self.cursor.execute("ANALYZE gen_oc")
        # Applications: the approved 新規利用申込 of the applied contracts, the approved 解約申込 of the ended ones, in
        # contract order; then the waiting ones.
        self.sql(
            "stage applications",
            """
            CREATE TEMP TABLE gen_app AS
            SELECT row_number() OVER (ORDER BY c.id) AS app_id, c.id AS contract_id,
                   CASE WHEN c.ended THEN 'cancel' ELSE 'new' END AS kind
            FROM gen_oc c WHERE c.applied OR c.ended
            """,
        )
        self.cursor.execute("CREATE INDEX ON gen_app (contract_id)")

    def write_contracts(self):
        from contracts.models import Application, ContractTerms, OptionContract

        p = {"clerk": self.clerk, "approver": self.approver}
        # The decided applications first: an option contract points at its origin application, and an application at
        # its contract; the foreign keys are deferred to the commit, so both are written with their ids.
        self.sql(
            "applications (decided)",
            """
            INSERT INTO contracts_application (id, kind, status, subscriber_id, option_id, variant_id, quantity,
                quoted_amount_yen, quoted_by_id, quoted_at, base_contract_id, carrier_line_id, option_contract_id,
                effective_date, note, correction_target, corrected_date, correction_reason, entered_by_id,
                entered_at, review_started_at, decided_by_id, decided_at, rejection_reason, withdrawn_at,
                withdrawal_reason)
            SELECT a.app_id, a.kind, 'approved', c.sub, c.option_id, c.variant_id, c.quantity, c.quoted,
                   CASE WHEN c.quoted IS NOT NULL THEN %(clerk)s END,
                   CASE WHEN c.quoted IS NOT NULL THEN c.decided_at - interval '2 days' END,
                   c.base_id, c.line_id, c.id, CASE WHEN a.kind = 'cancel' THEN c.end_date END, '', '', NULL, '',
                   %(clerk)s,
                   CASE WHEN a.kind = 'cancel' THEN TIMESTAMPTZ '2000-01-01 10:00+09'
                            + (c.end_date - 20 - DATE '2000-01-01') * interval '1 day'
                        ELSE c.decided_at - interval '3 days' END,
                   CASE WHEN a.kind = 'cancel' THEN TIMESTAMPTZ '2000-01-01 10:00+09'
                            + (c.end_date - 19 - DATE '2000-01-01') * interval '1 day'
                        ELSE c.decided_at - interval '1 day' END,
                   %(approver)s,
                   CASE WHEN a.kind = 'cancel' THEN TIMESTAMPTZ '2000-01-01 11:00+09'
                            + (c.end_date - 18 - DATE '2000-01-01') * interval '1 day'
                        ELSE c.decided_at END,
                   '', NULL, ''
            FROM gen_app a JOIN gen_oc c ON c.id = a.contract_id ORDER BY a.app_id
            """,
            p,
        )
        self.sql(
            "option contracts",
            """
            INSERT INTO contracts_optioncontract (id, subscriber_id, option_id, variant_id, base_contract_id,
                carrier_line_id, quantity, quoted_amount_yen, quoted_by_id, status, origin_application_id,
                contracted_on, approved_at, approved_by_id, billing_start_date, end_date, migrated, registered_by_id,
                confirmed_by_id, confirmed_at, succession_id, created_at)
            SELECT c.id, c.sub, c.option_id, c.variant_id, c.base_id, c.line_id, c.quantity, c.quoted,
                   CASE WHEN c.quoted IS NOT NULL THEN %(clerk)s END,
                   CASE WHEN c.ended THEN 'ended' WHEN c.waiting THEN 'approved' ELSE 'billing' END,
                   CASE WHEN c.applied THEN a.app_id END, c.contracted_on,
                   CASE WHEN c.applied THEN c.decided_at END, CASE WHEN c.applied THEN %(approver)s END,
                   c.billing_start, c.end_date, NOT c.applied,
                   CASE WHEN NOT c.applied THEN %(clerk)s END, CASE WHEN NOT c.applied THEN %(approver)s END,
                   CASE WHEN NOT c.applied THEN c.decided_at + interval '1 day' END, NULL, c.decided_at
            FROM gen_oc c LEFT JOIN gen_app a ON a.contract_id = c.id ORDER BY c.id
            """,
            p,
        )
        self.sql(
            "contract terms",
            """
            INSERT INTO contracts_contractterms (id, option_contract_id, option_id, variant_id, quantity,
                quoted_amount_yen, valid_from, valid_until, event, application_id, succession_id, provision,
                superseded_at, created_by_id, created_at)
            SELECT c.id, c.id, c.option_id, c.variant_id, c.quantity, c.quoted, c.contracted_on, c.end_date,
                   CASE WHEN c.applied THEN 'approval' ELSE 'migration' END,
                   CASE WHEN c.applied THEN a.app_id END, NULL, '', NULL,
                   CASE WHEN c.applied THEN %(approver)s ELSE %(clerk)s END, c.decided_at
            FROM gen_oc c LEFT JOIN gen_app a ON a.contract_id = c.id AND a.kind = 'new' ORDER BY c.id
            """,
            p,
        )
        common = """
            INSERT INTO contracts_application (id, kind, status, subscriber_id, option_id, variant_id, quantity,
                quoted_amount_yen, base_contract_id, carrier_line_id, option_contract_id, effective_date, note,
                correction_target, corrected_date, correction_reason, entered_by_id, entered_at, review_started_at,
                decided_by_id, decided_at, rejection_reason, withdrawn_at, withdrawal_reason)
            SELECT %(first)s + w.n, w.kind, CASE WHEN w.n %% 5 = 0 THEN 'received' ELSE 'under_review' END,
                   w.sub, w.option_id, w.variant_id, w.quantity, NULL, w.base_id, NULL, w.contract_id, w.effective,
                   '', '', NULL, '', %(clerk)s, TIMESTAMPTZ %(start)s + (w.sub * interval '1 minute'),
                   CASE WHEN w.n %% 5 <> 0 THEN TIMESTAMPTZ %(start)s + (w.sub * interval '1 minute')
                        + interval '1 hour' END, NULL, NULL, '', NULL, ''
            FROM (SELECT row_number() OVER (ORDER BY w.sub) AS n, w.*
                  FROM ({waiting}) w (sub, kind, option_id, variant_id, quantity, base_id, contract_id, effective)
            ) w
        """
        ipv6 = self.variants["ipv6"][0]
        waiting = {
            # 新規利用申込 of IPv6 on the subscriber's third base contract (FiberAccess/F, which holds no option), by
            # a subscriber who holds no IPv6 yet.
            "new": f"""
                SELECT b.subscriber_id AS sub, 'new' AS kind, {ipv6[1]} AS option_id, {ipv6[0]} AS variant_id,
                       1 AS quantity, b.id AS base_id, NULL::bigint AS contract_id, NULL::date AS effective
                FROM contracts_baseservicecontract b WHERE b.contract_number LIKE '%%-2'
                    AND NOT EXISTS (SELECT 1 FROM gen_oc c WHERE c.sub = b.subscriber_id AND c.option_id = {ipv6[1]}
                                    AND NOT c.ended)
            """,
            # 契約内容変更申込 (10 accounts more from next month) and 解約申込 of a contract in billing.
            "change": f"""
                SELECT DISTINCT ON (c.sub) c.sub, 'change', c.option_id, c.variant_id, c.quantity + 10, c.base_id,
                       c.id, DATE '{clock_next_month(self.today)}'
                FROM gen_oc c WHERE c.sub %% 20 = 3 AND c.pricing = 'per_block' AND c.billing_start IS NOT NULL
                    AND NOT c.ended ORDER BY c.sub, c.id
            """,
            "cancel": f"""
                SELECT DISTINCT ON (c.sub) c.sub, 'cancel', c.option_id, c.variant_id, c.quantity, c.base_id, c.id,
                       DATE '{self.today + dt.timedelta(days=40)}'
                FROM gen_oc c WHERE c.sub %% 20 = 7 AND c.pricing = 'per_block' AND c.billing_start IS NOT NULL
                    AND NOT c.ended ORDER BY c.sub, c.id
            """,
        }
        for kind, select in waiting.items():
            self.sql(
                f"applications (waiting, {kind})",
                common.format(waiting=select),
                {
                    **p,
                    "first": self.one("SELECT coalesce(max(id), 0) FROM contracts_application"),
                    "start": f"{self.today - dt.timedelta(days=14)} 09:00+09",
                },  # fmt: skip
            )
        received = {"status": "'received'", "review_started_at": "NULL", "decided_by_id": "NULL",
                    "decided_at": "NULL",
                    "option_contract_id": "CASE WHEN t.kind = 'new' THEN NULL"
                                          " ELSE t.option_contract_id END"}  # fmt: skip
        self.history(
            Application,
            where="true",
            date="t.entered_at",
            reason="CASE t.kind WHEN 'new' THEN '新規利用申込の受付' ELSE '解約申込の受付' END",
            kind="+",
            user=str(self.clerk),
            overrides=received,
        )
        self.history(
            Application,
            where="t.review_started_at IS NOT NULL",
            date="t.review_started_at",
            reason="'審査開始'",
            kind="~",
            user=str(self.approver),
            overrides={**received, "status": "'under_review'", "review_started_at": "t.review_started_at"},
        )
        self.history(
            Application,
            where="t.decided_at IS NOT NULL",
            date="t.decided_at",
            reason="'申込 #' || t.id || '（' || CASE t.kind WHEN 'new' THEN '新規利用申込' ELSE '解約申込' END"
            " || '）の承諾'",
            kind="~",
            user=str(self.approver),
        )
        as_made = {"status": "'approved'", "billing_start_date": "NULL", "end_date": "NULL", "confirmed_by_id": "NULL",
                   "confirmed_at": "NULL"}  # fmt: skip
        self.history(
            OptionContract,
            where="true",
            date="t.created_at",
            reason="CASE WHEN t.migrated THEN '移行データの登録' ELSE '申込 #' || t.origin_application_id"
            " || '（新規利用申込）の承諾により契約成立（初期費用の支払義務発生）' END",
            kind="+",
            user=f"CASE WHEN t.migrated THEN {self.clerk} ELSE {self.approver} END",
            overrides=as_made,
        )
        self.history(
            OptionContract,
            where="t.migrated",
            date="t.confirmed_at",
            reason="'移行データの確認'",
            kind="~",
            user=str(self.approver),
            overrides={**as_made, "confirmed_by_id": "t.confirmed_by_id", "confirmed_at": "t.confirmed_at"},
        )
        self.history(
            OptionContract,
            where="t.billing_start_date IS NOT NULL",
            date="t.created_at + interval '10 days'",
            reason="'課金開始日の登録'",
            kind="~",
            user=str(self.clerk),
            overrides={"status": "'billing'", "end_date": "NULL"},
        )
        self.history(
            OptionContract,
            where="t.end_date IS NOT NULL",
            date="TIMESTAMPTZ '2000-01-01 11:00+09' + (t.end_date - 18 - DATE '2000-01-01') * interval '1 day'",
            reason="'解約申込の承諾'",
            kind="~",
            user=str(self.approver),
        )
        self.history(
            ContractTerms,
            where="true",
            date="t.created_at",
            reason="'契約条件の設定'",
            kind="+",
            user="t.created_by_id",
        )

    def ledger(self):
        from contracts.models import LedgerEntry, MonthClose
        from contracts.services.month_close import month_label

        # The 月額費用 row of every billing start with a monthly fee item (booked in the billing start's month).
        self.sql(
            "ledger: billing starts",
            """
            INSERT INTO contracts_ledgerentry (kind, option_contract_id, application_id, fee_item_id, revision_id,
                article, quantity, blocks, unit_amount_yen, amount_yen, arisen_at, booked_month, effective_from,
                charge_month, days_billed, days_in_month, reverses_id, reason, created_by_id, created_at)
            SELECT 'monthly', c.id, a.app_id, c.fee_id, c.revision_id, c.article, c.quantity, c.blocks,
                   CASE WHEN c.pricing = 'per_block' THEN c.amount_yen ELSE c.monthly_yen END, c.monthly_yen,
                   c.decided_at + interval '10 days', date_trunc('month', c.billing_start)::date, c.billing_start,
                   NULL, NULL, NULL, NULL, '', %(clerk)s, c.decided_at + interval '10 days'
            FROM gen_oc c LEFT JOIN gen_app a ON a.contract_id = c.id AND a.kind = 'new'
            WHERE c.fee_id IS NOT NULL AND c.billing_start IS NOT NULL ORDER BY c.decided_at, c.id
            """,
            {"clerk": self.clerk},
        )
        self.history(
            LedgerEntry,
            where="t.kind = 'monthly'",
            date="t.created_at",
            reason="'課金開始日の登録による月額費用'",
            kind="+",
            user="t.created_by_id",
        )
        for month in self.months:
            last_day = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            closed_at = f"{last_day + dt.timedelta(days=2)} 10:00+09"
            seen = self.one("SELECT coalesce(max(id), 0) FROM contracts_ledgerentry")
            rows = self.sql(
                f"ledger: close of {month:%Y-%m}",
                """
                INSERT INTO contracts_ledgerentry (kind, option_contract_id, application_id, fee_item_id,
                    revision_id, article, quantity, blocks, unit_amount_yen, amount_yen, arisen_at, booked_month,
                    effective_from, charge_month, days_billed, days_in_month, reverses_id, reason, created_by_id,
                    created_at)
                SELECT 'monthly_charge', c.id, NULL, c.fee_id, c.revision_id, c.article, c.quantity, c.blocks,
                       CASE WHEN c.pricing = 'per_block' THEN c.amount_yen ELSE c.monthly_yen END, c.monthly_yen,
                       TIMESTAMPTZ %(arisen)s, %(month)s, NULL, %(month)s, %(days)s, %(days)s, NULL, '',
                       %(accounting)s, TIMESTAMPTZ %(closed_at)s
                FROM gen_oc c
                WHERE c.fee_id IS NOT NULL AND c.billing_start <= %(month)s
                  AND (c.end_date IS NULL OR c.end_date >= %(last_day)s)
                ORDER BY c.id
                """,
                {
                    "arisen": f"{month} 00:00+09",
                    "month": month,
                    "days": last_day.day,
                    "accounting": self.accounting,
                    "closed_at": closed_at,
                    "last_day": last_day,
                },
            )
            self.history(
                LedgerEntry,
                where=f"t.id > {seen} AND t.kind = 'monthly_charge'",
                date="t.created_at",
                reason=f"'{month_label(month)}の月次締め'",
                kind="+",
                user="t.created_by_id",
            )
            if month == self.months[-1]:
                self._reversals(seen, closed_at)
            self.cursor.execute(
                """
                SELECT (SELECT coalesce(max(id), 0) FROM contracts_ledgerentry),
                       (SELECT coalesce(max(history_id), 0) FROM contracts_historicaloptioncontract),
                       (SELECT coalesce(max(history_id), 0) FROM contracts_historicalsubscriber),
                       (SELECT coalesce(max(history_id), 0) FROM contracts_historicalcontractterms)
                """
            )
            marks = self.cursor.fetchone()
            self.cursor.execute(
                """
                INSERT INTO contracts_monthclose (month, closed_at, closed_by_id, charge_rows, adjustment_rows,
                    ledger_watermark, ledger_seen_watermark, contract_history_watermark,
                    subscriber_history_watermark, terms_history_watermark, fingerprint)
                VALUES (%s, %s, %s, %s, 0, %s, %s, %s, %s, %s, '')
                """,
                [month, closed_at, self.accounting, rows, marks[0], seen, marks[1], marks[2], marks[3]],
            )
            self.history(
                MonthClose,
                where=f"t.month = DATE '{month}'",
                date="t.closed_at",
                reason=f"'{month_label(month)}の月次締め'",
                kind="+",
                user="t.closed_by_id",
            )

    def _reversals(self, seen: int, closed_at: str):
        """One in a thousand of the month's charges reversed by the 承認者 a week after the close."""
        from contracts.models import LedgerEntry

        before = self.one("SELECT max(id) FROM contracts_ledgerentry")
        self.sql(
            "ledger: reversals",
            """
            INSERT INTO contracts_ledgerentry (kind, option_contract_id, application_id, fee_item_id, revision_id,
                article, quantity, blocks, unit_amount_yen, amount_yen, arisen_at, booked_month, effective_from,
                charge_month, days_billed, days_in_month, reverses_id, reason, created_by_id, created_at)
            SELECT o.kind, o.option_contract_id, NULL, o.fee_item_id, o.revision_id, o.article, o.quantity, o.blocks,
                   o.unit_amount_yen, -o.amount_yen, TIMESTAMPTZ %(at)s + (o.id %% 1000) * interval '1 second',
                   date_trunc('month', (TIMESTAMPTZ %(at)s) AT TIME ZONE 'Asia/Tokyo')::date, NULL, o.charge_month,
                   o.days_billed, o.days_in_month, o.id, '契約数量の誤りによる取消', %(approver)s,
                   TIMESTAMPTZ %(at)s + (o.id %% 1000) * interval '1 second'
            FROM contracts_ledgerentry o
            WHERE o.id > %(seen)s AND o.kind = 'monthly_charge' AND o.id %% 1000 = 7
            ORDER BY o.id
            """,
            {"at": closed_at.replace(" 10:00", " 15:00"), "seen": seen, "approver": self.approver},
        )
        self.history(
            LedgerEntry,
            where=f"t.id > {before} AND t.reverses_id IS NOT NULL",
            date="t.created_at",
            reason="'支払義務の取消: ' || t.reason",
            kind="+",
            user="t.created_by_id",
        )

    def finish(self):
        """Move every identity sequence past the ids given here."""
        from django.apps import apps

        for model in apps.get_app_config("contracts").get_models():
            table, pk = model._meta.db_table, model._meta.pk.column
            self.cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{pk}'),"
                f" greatest((SELECT max({pk}) FROM {table}), 1))"
            )


def build(scale: float, log=print, *, vacuum: bool = True) -> dict:
    from django.db import connection, transaction

    from contracts.demo import load_staff

    n = max(1, round(200_000 * scale))
    started = time.perf_counter()
    load_staff()  # through the staff-account service (its own durable transaction)
    with transaction.atomic(), connection.cursor() as cursor:
        book = Book(cursor, subscribers=n, log=log)
        book.subscribers()
        book.bases_and_lines()
        book.option_contracts()
        book.write_contracts()
        book.ledger()
        book.finish()
    filled = time.perf_counter() - started
    log(f"  filled in {filled:.0f} s; VACUUM ANALYZE …")
    if vacuum:  # outside any transaction (Django's default autocommit)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    _summaries(log)
    return {"seconds": time.perf_counter() - started, **counts()}


def _summaries(log):
    """Each closed month's 集計 and seal, stored through their services as a close made before them gets them
    (`report_figures_backfill`, `seal_ledger`): the generator writes its closes' rows set-based, not by
    `month_close`."""
    from django.contrib.auth import get_user_model

    from contracts.services.report_figures import close_figures_backfill
    from contracts.services.seals import month_seals_backfill

    accounting = get_user_model().objects.get(username="keiri")
    started = time.perf_counter()
    close_figures_backfill(actor=accounting)
    log(f"  closed months' 集計 stored: {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    month_seals_backfill(actor=accounting)
    log(f"  closed months sealed (as found): {time.perf_counter() - started:.0f} s")


def counts() -> dict:
    from django.db import connection

    tables = {
        "subscribers": "contracts_subscriber",
        "base contracts": "contracts_baseservicecontract",
        "carrier lines": "contracts_carrierlinecontract",
        "option contracts": "contracts_optioncontract",
        "applications": "contracts_application",
        "ledger rows": "contracts_ledgerentry",
    }
    with connection.cursor() as cursor:
        result = {}
        for label, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            result[label] = cursor.fetchone()[0]
        cursor.execute("SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE relname LIKE 'contracts_historical%%'")
        result["history rows"] = int(cursor.fetchone()[0] or 0)
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        result["database size"] = cursor.fetchone()[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 200,000 subscribers (the issue's book)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument(
        "--force", action="store_true", help="rebuild a database whose name says neither bench nor book"
    )
    args = parser.parse_args()
    name = args.database_url.rsplit("/", 1)[-1]
    if not args.force and "bench" not in name and "book" not in name:
        sys.exit(
            f"データベース「{name}」を削除して作り直します。名前に bench か book を含めるか、--force を付けてください。"
        )
    if args.scale <= 0:
        sys.exit("--scale は正の数で指定してください（1 = 契約者 200,000）。")
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("--database-url は PostgreSQL の URL で指定してください（postgres://…）。")
    harness.environment(args.database_url)
    harness.database_ensure(args.database_url, fresh=True)
    harness.django_setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_regulation", stdout=open(os.devnull, "w"))
    print(f"scale {args.scale}: migrated and regulation loaded in {time.perf_counter() - started:.0f} s")
    result = build(args.scale)
    for key, value in result.items():
        print(f"{key:>18}: {value:,.0f}" if isinstance(value, (int, float)) else f"{key:>18}: {value}")


if __name__ == "__main__":
    main()
