"""Report and export reads go to the read replica; writes, and the reads a write depends on, to the primary
(core/db_router.py).

In `make test` the replica is the test mirror (the same database through the `replica` connection): the routing is
proved. In ops/check_replica.sh it is a real streaming standby (DATABASE_REPLICA_URL): there the data is committed
on the primary and replayed before each read (`replayed()`), the connection the reports read on is shown to be a
server in recovery, and a write there is refused by the server itself.
"""

import datetime as dt

import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.urls import reverse

from accounting.formats import YAYOI, journal_export
from contracts.choices import ApplicationStatus
from contracts.models import Application, LedgerEntry, MonthCloseSummary, ReportFigures
from contracts.reports.exports import export_response_chunks
from contracts.services import application_start_review
from contracts.services.applications import application_terms_version
from contracts.services.month_close import month_close
from core import db_router
from core.db_router import REPLICA, ReplicaRouter, read_alias, reads_from_primary, reads_from_replica
from tests import factories
from tests.accounting.journal_checks import map_everything
from tests.replica import REAL_REPLICA, in_recovery, queries_by_alias, replayed, touching
from tests.tasks import refresh_report_figures

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])

FEB = dt.date(2026, 2, 1)
LEDGER = LedgerEntry._meta.db_table


def _assert_replica_is_a_standby():
    if REAL_REPLICA:
        assert in_recovery(REPLICA), "the replica alias does not reach a standby"
        assert not in_recovery(DEFAULT_DB_ALIAS)


def _body(response) -> bytes:
    try:
        return b"".join(response.streaming_content) if response.streaming else response.content
    finally:
        response.close()


@pytest.fixture
def closed_february(regulation, clerk, approver, accounting, fixed_clock):
    """SWP 30 accounts billed from 2026-02-10, every journal mapping, February closed on 2026-03-05."""
    fixed_clock.set("2026-02-10T10:00+09:00")
    contract = factories.billing_contract(clerk=clerk, approver=approver, quantity=30)
    map_everything(accounting)
    fixed_clock.set("2026-03-05T10:00+09:00")
    month_close(month=FEB, actor=accounting)
    replayed()
    return contract


def test_reads_go_to_the_replica_only_when_asked_and_never_inside_a_transaction_on_the_primary(monkeypatch):
    router = ReplicaRouter()
    assert read_alias() == DEFAULT_DB_ALIAS
    with reads_from_replica():
        assert read_alias() == REPLICA == router.db_for_read(LedgerEntry)
        assert router.db_for_write(LedgerEntry) == DEFAULT_DB_ALIAS
        with reads_from_primary():
            assert read_alias() == DEFAULT_DB_ALIAS  # a block that writes, then reads what it wrote
        with transaction.atomic():
            assert read_alias() == DEFAULT_DB_ALIAS  # a service: its reads see its own writes and locks
        with transaction.atomic(using=REPLICA):
            assert read_alias() == REPLICA  # an export's snapshot on the replica
        assert read_alias() == REPLICA
        monkeypatch.delitem(db_router.settings.DATABASES, REPLICA)
        assert read_alias() == DEFAULT_DB_ALIAS  # no DATABASE_REPLICA_URL: one database, as before
    assert read_alias() == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "contracts") and not router.allow_migrate(REPLICA, "contracts")


@pytest.mark.clock("2026-03-10T10:00+09:00")
def test_the_report_page_reads_the_book_from_the_replica(client, regulation, clerk, approver, accounting):
    factories.billing_contract(clerk=clerk, approver=approver, quantity=30)
    refresh_report_figures(month=dt.date(2026, 3, 1), actor=accounting)  # the 速報's figures, stored by a task
    client.force_login(accounting)
    replayed()
    with queries_by_alias() as queries:
        response = client.get(reverse("contracts:monthly_report"), {"month": "2026-03"})
    assert response.status_code == 200 and "7,025円" in response.content.decode()  # 速報: 6,387円 + tax 638円
    figures = ReportFigures._meta.db_table
    assert touching(queries.replica, figures), "the report did not read its figures on the replica"
    assert not touching(queries.primary, figures), "the report read its figures on the primary"
    # Whether the book changed since the figures is asked of the primary on purpose (a lagging replica must not make
    # stale figures look current): one query of MAX()es, the only ledger read there.
    on_primary = touching(queries.primary, LEDGER)
    assert len(on_primary) == 1 and on_primary[0].startswith("SELECT (SELECT MAX("), on_primary
    _assert_replica_is_a_standby()


REPORT_DOWNLOADS = [("csv", "detail"), ("csv", "charges"), ("csv", "summary"), ("csv-cp932", "detail"), ("xlsx", "")]


def test_every_report_download_reads_on_the_replica_and_gives_the_primarys_bytes(client, closed_february, accounting):
    client.force_login(accounting)
    replayed()
    on_postgres = connections[REPLICA].vendor == "postgresql"
    for fmt, part in REPORT_DOWNLOADS:
        with queries_by_alias() as queries:
            response = client.get(
                reverse("contracts:monthly_report_download"), {"month": "2026-02", "fmt": fmt, "part": part}
            )
            body = _body(response)
        _name, _type, chunks = export_response_chunks(month=FEB, fmt=fmt, part=part or None)  # on the primary
        assert body == b"".join(chunks) and len(body) > 100, (fmt, part)
        if on_postgres:  # the export's snapshot is opened on the replica
            assert any("REPEATABLE READ, READ ONLY" in q["sql"] for q in queries.replica.captured_queries)
        # On PostgreSQL the 明細 rows leave by COPY on the snapshot's own (replica) connection, below Django's log.
        by_copy = on_postgres and fmt.startswith("csv") and part == "detail"
        assert touching(queries.replica, LEDGER) or by_copy, (fmt, part)
        assert not touching(queries.primary, LEDGER), (fmt, part)
    _assert_replica_is_a_standby()


def test_the_journal_and_a_list_download_read_on_the_replica(client, closed_february, accounting):
    client.force_login(accounting)
    replayed()
    with queries_by_alias() as queries:
        journal = _body(client.get(reverse("accounting:journal_download"), {"month": "2026-02", "fmt": YAYOI}))
    assert journal == b"".join(journal_export(month=FEB, fmt=YAYOI)[2]) and journal
    assert touching(queries.replica, LEDGER) and not touching(queries.primary, LEDGER)

    with queries_by_alias() as queries:
        listing = _body(client.get(reverse("contracts:ledger_list"), {"export": "csv"}))
    lines = listing.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + LedgerEntry.objects.count() > 2
    assert touching(queries.replica, LEDGER) and not touching(queries.primary, LEDGER)
    # The list page itself is not an export: it reads on the primary.
    with queries_by_alias() as queries:
        assert client.get(reverse("contracts:ledger_list")).status_code == 200
    assert touching(queries.primary, LEDGER) and not touching(queries.replica, LEDGER)
    _assert_replica_is_a_standby()


def test_the_accounting_home_reads_its_figures_on_the_replica_and_writes_nothing(client, closed_february, accounting):
    assert MonthCloseSummary.objects.get().total_incl_yen == 6717  # February's 集計, stored by its close
    client.force_login(accounting)
    replayed()
    with queries_by_alias() as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200 and "6,717円" in response.content.decode()  # 6,107円 + tax 610円
    summary_table = MonthCloseSummary._meta.db_table
    assert touching(queries.replica, "contracts_monthclose") and touching(queries.replica, summary_table)
    writes = ("INSERT", "UPDATE", "DELETE")
    written = [q["sql"] for q in queries.primary.captured_queries if q["sql"].lstrip().startswith(writes)]
    assert not [sql for sql in written if "django_session" not in sql], written  # the login's session aside
    _assert_replica_is_a_standby()


def test_the_impact_preview_reads_on_the_replica(client, regulation, clerk, approver, tariff_manager):
    factories.billing_contract(clerk=clerk, approver=approver, quantity=30, billing_start=dt.date(2026, 2, 15))
    draft = factories.draft_revision(dt.date(2026, 4, 11), actor=tariff_manager)
    factories.draft_swp_fee(draft, 3300, actor=tariff_manager)
    client.force_login(tariff_manager)
    replayed()
    with queries_by_alias() as queries:
        html = client.get(reverse("contracts:revision_impact", args=[draft.pk])).content.decode()
        download = _body(client.get(reverse("contracts:revision_impact_download", args=[draft.pk]), {"fmt": "csv"}))
    assert "影響を受ける契約 1件" in html and download.decode("utf-8-sig").count("\n") == 2
    assert touching(queries.replica, "contracts_optioncontract")
    assert not touching(queries.primary, "contracts_optioncontract")
    _assert_replica_is_a_standby()


def test_an_approval_made_while_reads_go_to_the_replica_is_written_on_the_primary(client, regulation, clerk, approver):
    application = factories.submit_swp(subscriber=factories.swp_subscriber(actor=clerk), actor=clerk)
    application_start_review(application=application, actor=approver)
    client.force_login(approver)
    replayed()
    if REAL_REPLICA:  # the standby itself refuses any write
        with pytest.raises(DatabaseError, match="read-only"), connections[REPLICA].cursor() as cursor:
            cursor.execute("UPDATE contracts_application SET status = status")
    # Even a view that forgot it writes, run inside a replica-routed request, writes and locks on the primary.
    with reads_from_replica(), queries_by_alias() as queries:
        response = client.post(
            reverse("contracts:application_approve", args=[application.pk]),
            {"version": application_terms_version(application)},
        )
    assert response.status_code == 302
    table = Application._meta.db_table
    assert [s for s in touching(queries.primary, table) if s.startswith("UPDATE")]
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":  # the approval's row lock (SQLite has none)
        assert [s for s in touching(queries.primary, table) if "FOR UPDATE" in s]
    assert not [s for s in touching(queries.replica, table) if s.startswith("UPDATE") or "FOR UPDATE" in s]
    assert Application.objects.using(DEFAULT_DB_ALIAS).get().status == ApplicationStatus.APPROVED
    replayed()
    assert Application.objects.using(REPLICA).get().status == ApplicationStatus.APPROVED
    _assert_replica_is_a_standby()
