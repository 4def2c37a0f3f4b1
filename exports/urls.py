from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("jobs/new/", views.ExportJobRequestView.as_view(), name="exportjob_request"),
    path("jobs/<int:pk>/", views.ExportJobView.as_view(), name="exportjob_detail"),
    path("jobs/<int:pk>/download/", views.ExportJobDownloadView.as_view(), name="exportjob_download"),
    path("jobs/<int:pk>/retry/", views.ExportJobRetryView.as_view(), name="exportjob_retry"),
    path("log/", views.ExportLogListView.as_view(), name="exportlog_list"),
]
