from django.urls import path

from core.views import history_urlpatterns

from . import views
from .models import (
    Carrier,
    CarrierService,
    EligibilityRule,
    FeeItem,
    Option,
    OptionVariant,
    Section,
    Service,
    Succession,
    TariffRevision,
)

app_name = "options"

urlpatterns = [
    path("", views.RevisionListView.as_view(), name="revision_list"),
    path("revisions/new/", views.RevisionCreateView.as_view(), name="revision_create"),
    path("revisions/<int:pk>/", views.RevisionDetailView.as_view(), name="revision_detail"),
    path("revisions/<int:pk>/edit/", views.RevisionUpdateView.as_view(), name="revision_update"),
    path("revisions/<int:pk>/transition/", views.RevisionTransitionView.as_view(), name="revision_transition"),
    path("revisions/<int:pk>/fee-items/new/", views.FeeItemCreateView.as_view(), name="revision_feeitem_create"),
    path("fee-items/<int:pk>/edit/", views.FeeItemUpdateView.as_view(), name="feeitem_update"),
    path("revisions/<int:pk>/options/new/", views.DraftOptionAddView.as_view(), name="revision_option_add"),
    path("revisions/<int:pk>/options/retire/", views.DraftOptionRetireView.as_view(), name="revision_option_retire"),
    path(
        "revisions/<int:pk>/successions/new/",
        views.DraftSuccessionCreateView.as_view(),
        name="revision_succession_create",
    ),
    path(
        "revisions/<int:pk>/successions/withdraw/",
        views.DraftSuccessionWithdrawView.as_view(),
        name="revision_succession_withdraw",
    ),
    path("as-of/", views.TariffAsOfView.as_view(), name="tariff_as_of"),
    path("diff/", views.RevisionDiffView.as_view(), name="revision_diff"),
    path("options/", views.OptionListView.as_view(), name="option_list"),
    path("options/<int:pk>/", views.OptionDetailView.as_view(), name="option_detail"),
    *history_urlpatterns(
        [
            (TariffRevision, "options:revision_detail"),
            (Option, "options:option_detail"),
            (FeeItem, None),
            (OptionVariant, None),
            (EligibilityRule, None),
            (Succession, None),
            (Section, None),
            (Service, None),
            (Carrier, None),
            (CarrierService, None),
        ]
    ),
]
