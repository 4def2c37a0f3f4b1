from django.urls import path

from core.views import history_urlpatterns

from . import views
from .models import AccountMapping

app_name = "accounting"

urlpatterns = [
    path("mappings/", views.MappingListView.as_view(), name="mapping_list"),
    path("mappings/edit/", views.MappingEditView.as_view(), name="mapping_edit"),
    path("journals/download/", views.JournalDownloadView.as_view(), name="journal_download"),
    *history_urlpatterns([(AccountMapping, None)]),
]
