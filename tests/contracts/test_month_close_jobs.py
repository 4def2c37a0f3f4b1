"""The month close as a background task: 経理's request queues it and returns at once, a worker runs it, the page
shows its progress and result; one close of a month queued or running at once; a worker killed half-way leaves
nothing written and the close run again gives the clean close's ledger."""

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import time_machine
from django.conf import settings
from django.db import IntegrityError, connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from contracts.billing.charges import month_charges
from contracts.choices import LedgerKind, MonthCloseJobStatus
from contracts.models import LedgerEntry, MonthClose, MonthCloseJob
from contracts.services import month_close as month_close_module
from contracts.services.month_close_jobs import month_close_enqueue
from core import clock
from core.errors import DomainError
from tests.factories import contract_billed_from, jst
from tests.tasks import run_queued_tasks

FEB = dt.date(2026, 2, 1)


def _at(*args):
    return time_machine.travel(jst(*args), tick=False)


def _book(approver, contracts=3):
    for n in range(contracts):
        contract_billed_from(dt.date(2026, 2, 1 + n), code=f"C{n:06d}", quantity=10 * (n + 1), approver=approver)


def _ledger():
    return sorted(
        LedgerEntry.objects.filter(kind__in=[LedgerKind.MONTHLY_CHARGE, LedgerKind.ADJUSTMENT]).values_list(
            "kind", "option_contract_id", "fee_item_id", "charge_month", "days_billed", "amount_yen"
        )
    )


def _clean(month):
    return sorted(
        (
            LedgerKind.MONTHLY_CHARGE,
            line.option_contract_id,
            line.fee_item.pk,
            line.charge_month,
            line.days_billed,
            line.amount_yen,
        )
        for line in month_charges(month=month)
    )


@pytest.mark.django_db
def test_a_close_request_queues_the_close_and_returns_before_anything_is_written(
    regulation, approver, accounting, client
):
    _book(approver)
    with _at(2026, 3, 2, 9, 0):
        client.force_login(accounting)
        # Confirmed on the preview (仮締め) shown: its signed digest goes with the request.
        token = client.get(reverse("contracts:close_preview"), {"month": "2026-02"}).context["token"]
        response = client.post(reverse("contracts:month_close"), {"month": "2026-02", "preview": token})
        page = client.get(reverse("contracts:month_close_job", args=[job_pk := MonthCloseJob.objects.get().pk]))
    job = MonthCloseJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("contracts:month_close_job", args=[job.pk])
    assert (job.month, job.status, job.requested_by) == (FEB, MonthCloseJobStatus.QUEUED, accounting)
    assert not MonthClose.objects.exists() and _ledger() == []
    task = DBTaskResult.objects.get()
    assert (str(task.id), task.status, task.args_kwargs["args"]) == (job.task_id, "READY", [job.pk])

    assert job.pk == job_pk
    page = page.content.decode()
    assert "待機中" in page and 'http-equiv="refresh"' in page

    with _at(2026, 3, 2, 9, 1):
        expected = _clean(FEB)
        run_queued_tasks()
        page = client.get(reverse("contracts:month_close_job", args=[job.pk])).content.decode()
        status = client.get(reverse("contracts:month_close_job", args=[job.pk]), {"format": "json"}).json()
        report = client.get(reverse("contracts:monthly_report"), {"month": "2026-02"}).content.decode()
    job.refresh_from_db()
    close = MonthClose.objects.get()
    assert (job.status, job.close, job.contracts_done, job.contracts_total, job.rows_written) == (
        MonthCloseJobStatus.DONE,
        close,
        3,
        3,
        3,
    )
    assert job.message == "令和8年2月 (2026-02)を締めました（月額料金 3行・調整 0行を記帳）。"
    assert close.closed_by == accounting and _ledger() == expected
    assert "完了" in page and job.message in page and 'http-equiv="refresh"' not in page
    assert (status["status"], status["percent"], status["rows_written"]) == ("done", 100, 3)
    assert "完了" in report


@pytest.mark.django_db
def test_only_one_close_of_a_month_is_queued_or_running_at_once(regulation, approver, accounting):
    _book(approver)
    with _at(2026, 3, 2, 9, 0):
        first = month_close_enqueue(month=FEB, actor=accounting)
        again = month_close_enqueue(month=dt.date(2026, 2, 17), actor=accounting)
    assert again == first and MonthCloseJob.objects.count() == 1 and DBTaskResult.objects.count() == 1
    with pytest.raises(IntegrityError):  # the database holds it too
        MonthCloseJob.objects.create(month=FEB, requested_by=accounting, requested_at=clock.now())


@pytest.mark.django_db
def test_a_close_that_cannot_be_made_is_refused_in_the_request_and_queues_nothing(regulation, approver, accounting):
    _book(approver)
    with _at(2026, 2, 27, 9, 0), pytest.raises(DomainError, match="まだ終わっていないため締められません"):
        month_close_enqueue(month=FEB, actor=accounting)
    with _at(2026, 3, 2, 9, 0):
        month_close_enqueue(month=FEB, actor=accounting)
        run_queued_tasks()
        closed = (
            "令和8年2月 (2026-02)は締め済みです（締め日時 令和8年3月2日 (2026-03-02) 09:00、締め実行者 accounting）"
        )
        with pytest.raises(DomainError, match=re.escape(closed)):
            month_close_enqueue(month=FEB, actor=accounting)
    assert MonthCloseJob.objects.count() == 1 and DBTaskResult.objects.count() == 1
    assert MonthClose.objects.count() == 1


@pytest.mark.django_db
def test_a_close_that_dies_after_some_batches_leaves_nothing_and_its_rerun_gives_the_clean_close(
    regulation, approver, accounting, monkeypatch
):
    _book(approver, contracts=5)
    with _at(2026, 3, 2, 9, 0):
        expected = _clean(FEB)
    monkeypatch.setattr(month_close_module, "BATCH_SIZE", 2)
    original = month_close_module.bulk_append_with_history

    def die_after_two_batches(model, rows, **kwargs):
        def on_batch(written):
            if written >= 4:
                raise SystemExit("worker killed")  # a BaseException, as a signal ending the worker is

        return original(model, rows, **{**kwargs, "on_batch": on_batch})

    monkeypatch.setattr(month_close_module, "bulk_append_with_history", die_after_two_batches)
    history_before = LedgerEntry.history.count()
    with _at(2026, 3, 2, 9, 0):
        job = month_close_enqueue(month=FEB, actor=accounting)
        run_queued_tasks()
    job.refresh_from_db()
    assert job.status == MonthCloseJobStatus.FAILED and "記帳は取り消されています" in job.message
    assert DBTaskResult.objects.get().status == "FAILED"
    assert _ledger() == [] and not MonthClose.objects.exists() and LedgerEntry.history.count() == history_before

    monkeypatch.setattr(month_close_module, "bulk_append_with_history", original)
    with _at(2026, 3, 2, 9, 5):
        rerun = month_close_enqueue(month=FEB, actor=accounting)
        run_queued_tasks()
        run_queued_tasks()
    rerun.refresh_from_db()
    assert rerun.status == MonthCloseJobStatus.DONE and rerun != job
    assert _ledger() == expected and MonthClose.objects.get().charge_rows == 5


SLOW_WORKER = """
import time, django
django.setup()
from django.core.management import call_command
from contracts.services import month_close
month_close.BATCH_SIZE = 1
original = month_close._entry
def slow(*args, **kwargs):
    time.sleep(0.5)
    return original(*args, **kwargs)
month_close._entry = slow
call_command("db_worker", "--no-startup-delay", "--no-reload", "--interval", "0.1")
"""


def _worker(code=None):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
    }
    args = (
        [sys.executable, "-c", code]
        if code
        else [
            sys.executable,
            "manage.py",
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "--interval",
            "0",
        ]
    )
    return subprocess.Popen(args, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.postgres
def test_a_worker_process_killed_mid_close_leaves_nothing_and_the_month_closes_when_asked_again(
    transactional_db, regulation, approver, accounting
):
    _book(approver, contracts=6)
    with _at(2026, 3, 2, 9, 0):
        expected = _clean(FEB)
    # The request is made after February ends; the worker's clock is the machine's (any day after that too).
    with _at(2026, 3, 2, 9, 5):
        job = month_close_enqueue(month=FEB, actor=accounting)
    worker = _worker(SLOW_WORKER)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.rows_written >= 2:  # progress, read while the close's transaction is open
                break
            time.sleep(0.1)
        assert job.status == MonthCloseJobStatus.RUNNING and job.rows_written >= 2, job
        assert job.contracts_total == 6
        assert _ledger() == []  # nothing is visible before the close commits
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    time.sleep(1)  # the server notices the dead connection and rolls its transaction back
    assert _ledger() == [] and not MonthClose.objects.exists()

    with _at(2026, 3, 2, 9, 10):
        rerun = month_close_enqueue(month=FEB, actor=accounting)
    job.refresh_from_db()
    assert job.status == MonthCloseJobStatus.FAILED and "中断されました" in job.message
    assert rerun.pk != job.pk and rerun.status == MonthCloseJobStatus.QUEUED
    output = _worker().communicate(timeout=120)[0].decode()
    rerun.refresh_from_db()
    assert rerun.status == MonthCloseJobStatus.DONE, output
    assert _ledger() == expected
    assert MonthClose.objects.get().charge_rows == 6
