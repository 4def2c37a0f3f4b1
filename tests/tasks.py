"""Running the queued background tasks in a test, as a worker would."""

from io import StringIO
from unittest import mock

from django.core.management import call_command


def run_queued_tasks() -> None:
    """Run every queued task in this process, as `manage.py db_worker --batch` does, inside the test's transaction
    (so without closing the connection between tasks, which would end it)."""
    worker = "django_tasks_db.management.commands.db_worker"
    # Nor taking over the test process's SIGINT/SIGTERM, which the worker would keep after returning.
    with (
        mock.patch(f"{worker}.close_old_connections", lambda: None),
        mock.patch(f"{worker}.Worker.configure_signals", lambda self: None),
    ):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", stdout=StringIO())


def refresh_report_figures(*, month, actor):
    """Ask for the open month's 速報 figures and run the worker, as 経理's 「速報を集計する」 and a worker would; return
    the stored figures."""
    from contracts.services.report_figures import report_figures_request

    figures = report_figures_request(month=month, actor=actor)
    run_queued_tasks()
    figures.refresh_from_db()
    return figures
