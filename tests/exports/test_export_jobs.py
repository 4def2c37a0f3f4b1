"""Exports as background tasks (exports.services): the job's file, stored in the database, is the direct
download's bytes for every kind; a worker killed mid-way is rerun to the same file, written once; only the
requester (or システム管理者) gets the file."""

import hashlib
from contextlib import closing
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.urls import reverse

from contracts import roles
from core.errors import DomainError
from exports import services
from exports.choices import ExportJobStatus
from exports.kinds import KINDS
from exports.models import ExportFileChunk, ExportJob
from exports.services import export_job_request, export_job_retry, export_job_run
from tests.conftest import _staff
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.django_db

REPORTS = [
    {"month": "2026-02", "fmt": "csv", "part": "detail"},
    {"month": "2026-02", "fmt": "csv", "part": "charges"},
    {"month": "2026-02", "fmt": "csv-cp932", "part": "summary"},
    {"month": "2026-02", "fmt": "xlsx"},
    {"month": "2026-03", "fmt": "xlsx"},  # an open month (速報): its workbook is stamped with the (fixed) clock
]
JOURNALS = [{"month": "2026-02", "fmt": fmt} for fmt in ("journal-yayoi", "journal-freee", "journal-mf")]
IMPACTS = [{"fmt": "csv"}, {"fmt": "csv", "part": "summary"}, {"fmt": "xlsx"}]
CASES = [("report", p) for p in REPORTS] + [("journal", p) for p in JOURNALS] + [("impact", p) for p in IMPACTS]


def _body(response) -> bytes:
    # The test client closes the response itself once its stream is read (as a WSGI server does).
    return b"".join(response.streaming_content) if response.streaming else response.content


def _direct(client, kind, params, draft) -> bytes:
    spec = KINDS[kind]
    kwargs = {"pk": draft.pk} if kind == "impact" else {}
    response = client.get(reverse(spec.download_url_name, kwargs=kwargs) + "?" + urlencode(params))
    assert response.status_code == 200, response
    return _body(response)


def _params(kind, params, draft) -> dict:
    return {**params, "revision": str(draft.pk)} if kind == "impact" else params


def _job_file(client, job) -> bytes:
    response = client.get(reverse("exports:exportjob_download", args=[job.pk]))
    assert response.status_code == 200
    return _body(response)


@pytest.mark.parametrize(("kind", "params"), CASES, ids=[f"{k}-{'-'.join(p.values())}" for k, p in CASES])
def test_the_job_file_is_the_direct_download_byte_for_byte(client, closed_february, accounting, kind, params):
    client.force_login(accounting)
    direct = _direct(client, kind, params, closed_february)
    job = export_job_request(kind=kind, data=_params(kind, params, closed_february), actor=accounting)
    assert job.status == ExportJobStatus.QUEUED and job.task_id
    run_queued_tasks()
    job.refresh_from_db()
    assert job.status == ExportJobStatus.DONE, job.message
    stored = _job_file(client, job)
    assert stored == direct
    assert (job.size, job.sha256) == (len(direct), hashlib.sha256(direct).hexdigest())
    assert job.row_count > 0 and job.filename


def test_asking_twice_returns_the_queued_job_and_the_page_shows_progress_then_the_file(
    client, closed_february, accounting
):
    client.force_login(accounting)
    response = client.post(reverse("exports:exportjob_request"), {"kind": "report", "month": "2026-02", "fmt": "xlsx"})
    job = ExportJob.objects.get()
    assert response.url == reverse("exports:exportjob_detail", args=[job.pk])
    again = client.post(reverse("exports:exportjob_request"), {"kind": "report", "month": "令和8年2月", "fmt": "xlsx"})
    assert again.url == response.url and ExportJob.objects.count() == 1  # the same request, the same job
    html = client.get(response.url).content.decode()
    assert "待機中" in html and "自動で更新" in html and 'id="export-job-download"' not in html
    assert client.get(response.url, {"format": "json"}).json()["status"] == "queued"
    run_queued_tasks()
    html = client.get(response.url).content.decode()
    assert "完了" in html and "月次レポート_令和8年2月 (2026-02).xlsx をダウンロード" in html
    assert client.get(response.url, {"format": "json"}).json()["has_file"] is True


def test_a_request_the_download_would_refuse_is_refused_by_its_field_and_queues_nothing(
    client, closed_february, accounting
):
    client.force_login(accounting)
    page = reverse("contracts:monthly_report") + "?month=2026-02"
    response = client.post(
        reverse("exports:exportjob_request"),
        {"kind": "report", "month": "2026-02", "fmt": "xlsx", "part": "detail"},
        HTTP_REFERER="http://testserver" + page,
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(page)
    assert any("XLSX" in str(m) for m in response.context["messages"])
    with pytest.raises(DomainError, match="年月の形式が正しくありません"):
        export_job_request(kind="report", data={"month": "13月", "fmt": "csv"}, actor=accounting)
    with pytest.raises(DomainError, match="仕訳の出力形式"):
        export_job_request(kind="journal", data={"month": "2026-02", "fmt": "pdf"}, actor=accounting)
    assert not ExportJob.objects.exists()


def test_a_month_not_closed_fails_the_journal_job_with_the_download_s_message(client, closed_february, accounting):
    job = export_job_request(kind="journal", data={"month": "2026-01", "fmt": "journal-freee"}, actor=accounting)
    run_queued_tasks()
    job.refresh_from_db()
    assert job.status == ExportJobStatus.FAILED and "締め" in job.message
    assert not job.chunks.exists()


def _small_chunks(monkeypatch):
    monkeypatch.setattr(services, "CHUNK_BYTES", 1)  # every piece the producer yields is a row


def test_a_worker_killed_while_writing_leaves_nothing_and_the_rerun_writes_the_same_file_once(
    client, closed_february, accounting, monkeypatch
):
    client.force_login(accounting)
    params = {"month": "2026-02", "fmt": "csv", "part": "detail"}
    direct = _direct(client, "report", params, closed_february)
    _small_chunks(monkeypatch)
    job = export_job_request(kind="report", data=params, actor=accounting)
    real = KINDS["report"].produce

    def dies_half_way(job_params):
        name, content_type, chunks = real(job_params)

        def chunks_then_death():
            with closing(chunks):
                for i, chunk in enumerate(chunks):
                    if i == 2:
                        raise KeyboardInterrupt("the worker is killed")
                    yield chunk

        return name, content_type, chunks_then_death()

    monkeypatch.setitem(
        KINDS, "report", KINDS["report"].__class__(**{**KINDS["report"].__dict__, "produce": dies_half_way})
    )
    with pytest.raises(KeyboardInterrupt):
        export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJobStatus.FAILED
    assert not ExportFileChunk.objects.filter(job=job).exists()  # the chunks written before the kill rolled back
    monkeypatch.setitem(KINDS, "report", KINDS["report"].__class__(**{**KINDS["report"].__dict__, "produce": real}))
    export_job_retry(job=job, actor=accounting)
    run_queued_tasks()
    job.refresh_from_db()
    assert job.status == ExportJobStatus.DONE and job.attempts == 2
    assert _job_file(client, job) == direct
    seqs = list(job.chunks.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(len(seqs))) and len(seqs) > 2


def test_a_job_left_running_by_a_dead_worker_is_rerun_to_the_same_file_with_nothing_twice(
    client, closed_february, accounting, monkeypatch, fixed_clock
):
    client.force_login(accounting)
    params = {"month": "2026-02", "fmt": "xlsx"}
    direct = _direct(client, "report", params, closed_february)
    _small_chunks(monkeypatch)
    job = export_job_request(kind="report", data=params, actor=accounting)
    real_finish = services._finish

    def dies_before_done(job, status, **fields):
        if status == ExportJobStatus.DONE:
            raise SystemExit("the worker is killed after its file was committed")
        real_finish(job, status, **fields)

    monkeypatch.setattr(services, "_finish", dies_before_done)
    with pytest.raises(SystemExit):
        export_job_run(job_id=job.pk)
    monkeypatch.setattr(services, "_finish", real_finish)
    job.refresh_from_db()
    assert job.status == ExportJobStatus.RUNNING
    first_chunks = job.chunks.count()
    assert first_chunks > 2  # the file was committed; the job never said 完了
    if not services.export_job_abandoned(job):  # SQLite: told by the time it has run
        with pytest.raises(DomainError, match="作成中"):
            export_job_retry(job=job, actor=accounting)
        fixed_clock.advance(minutes=31)
        client.force_login(accounting)  # the session idled out meanwhile
    html = client.get(reverse("exports:exportjob_detail", args=[job.pk])).content.decode()
    assert "中断" in html and "もう一度作成する" in html
    client.post(reverse("exports:exportjob_retry", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ExportJobStatus.QUEUED
    run_queued_tasks()
    job.refresh_from_db()
    assert job.status == ExportJobStatus.DONE and job.attempts == 2
    assert _job_file(client, job) == direct
    assert job.chunks.count() == first_chunks  # written again from the start, not added to the first copy


def test_a_second_request_for_a_job_whose_worker_died_starts_a_new_one(closed_february, accounting, fixed_clock):
    params = {"month": "2026-02", "fmt": "csv"}
    job = export_job_request(kind="report", data=params, actor=accounting)
    services.export_job_transition(job, ExportJobStatus.RUNNING, started_at=fixed_clock.now())
    fixed_clock.advance(minutes=31)
    again = export_job_request(kind="report", data=params, actor=accounting)
    job.refresh_from_db()
    assert again.pk != job.pk and job.status == ExportJobStatus.ABORTED and "中断" in job.message


def test_only_the_requester_and_the_system_administrator_get_the_job(
    client, closed_february, accounting, sysadmin, tariff_manager
):
    other = _staff("accounting2", roles.ACCOUNTING)
    job = export_job_request(kind="report", data={"month": "2026-02", "fmt": "csv"}, actor=accounting)
    run_queued_tasks()
    for user, status in ((accounting, 200), (sysadmin, 200), (other, 403), (tariff_manager, 403)):
        client.force_login(user)
        assert client.get(reverse("exports:exportjob_detail", args=[job.pk])).status_code == status, user
        response = client.get(reverse("exports:exportjob_download", args=[job.pk]))
        assert response.status_code == status, user
        _body(response) if status == 200 else None
    client.force_login(other)
    assert client.post(reverse("exports:exportjob_retry", args=[job.pk])).status_code == 403
    with pytest.raises(DomainError, match="依頼した職員"):
        export_job_retry(job=job, actor=other)


def test_asking_needs_the_kind_s_permission(client, closed_february, clerk, tariff_manager):
    with pytest.raises(DomainError, match="権限がありません"):
        export_job_request(kind="report", data={"month": "2026-02", "fmt": "csv"}, actor=tariff_manager)
    client.force_login(clerk)
    data = {"kind": "report", "month": "2026-02", "fmt": "csv"}
    assert client.post(reverse("exports:exportjob_request"), data).status_code == 403
    client.force_login(tariff_manager)
    data = {"kind": "impact", "revision": closed_february.pk, "fmt": "csv"}
    assert client.post(reverse("exports:exportjob_request"), data).status_code == 302
    assert ExportJob.objects.get().requested_by == tariff_manager


def test_old_files_are_pruned_and_the_job_says_so(client, closed_february, accounting, fixed_clock):
    job = export_job_request(kind="report", data={"month": "2026-02", "fmt": "csv"}, actor=accounting)
    run_queued_tasks()
    call_command("prune_exports", stdout=open("/dev/null", "w"))
    assert ExportFileChunk.objects.filter(job=job).exists()  # not old yet
    fixed_clock.advance(days=8)
    call_command("prune_exports", stdout=open("/dev/null", "w"))
    job.refresh_from_db()
    assert not ExportFileChunk.objects.filter(job=job).exists() and job.file_deleted_at is not None
    client.force_login(accounting)
    response = client.get(reverse("exports:exportjob_download", args=[job.pk]), follow=True)
    assert any("削除されました" in str(m) for m in response.context["messages"])
