from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("jobs/new/", views.ExportJobRequestView.as_view(), name="job_request"),
    path("jobs/<int:pk>/", views.ExportJobView.as_view(), name="job_detail"),
    path("jobs/<int:pk>/download/", views.ExportJobDownloadView.as_view(), name="job_download"),
    path("jobs/<int:pk>/retry/", views.ExportJobRetryView.as_view(), name="job_retry"),
    path("log/", views.ExportLogListView.as_view(), name="log_list"),
]
