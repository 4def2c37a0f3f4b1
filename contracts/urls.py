from django.urls import include, path

from core.views import history_urlpatterns

from .models import (
    Application,
    BaseServiceContract,
    CarrierLineContract,
    LedgerEntry,
    MonthClose,
    OptionContract,
    Subscriber,
)
from .queues import QUEUES
from .views import (
    applications,
    home,
    ledger,
    option_contracts,
    queues,
    reports,
    revisions,
    search,
    subscriber_contracts,
    subscribers,
)

# Namespaced "contracts:"; the home page keeps the plain name "home" that LOGIN_REDIRECT_URL names.
contract_patterns = [
    path("search/", search.SearchView.as_view(), name="search"),
    *[
        path(f"queues/{queue.key}/", queues.QueueView.as_view(queue=queue), name=queue.url_name.partition(":")[2])
        for queue in QUEUES
    ],
    path("subscribers/", subscribers.SubscriberListView.as_view(), name="subscriber_list"),
    path("subscribers/new/", subscribers.SubscriberCreateView.as_view(), name="subscriber_create"),
    path("subscribers/<int:pk>/", subscribers.SubscriberDetailView.as_view(), name="subscriber_detail"),
    path("subscribers/<int:pk>/edit/", subscribers.SubscriberUpdateView.as_view(), name="subscriber_update"),
    path("subscribers/lookup/", subscribers.SubscriberLookupView.as_view(), name="subscriber_lookup"),
    path(
        "subscribers/<int:pk>/base-contracts/new/",
        subscriber_contracts.BaseContractCreateView.as_view(),
        name="subscriber_base_contract_create",
    ),
    path(
        "subscribers/<int:pk>/carrier-lines/new/",
        subscriber_contracts.CarrierLineCreateView.as_view(),
        name="subscriber_carrier_line_create",
    ),
    path(
        "base-contracts/<int:pk>/end/",
        subscriber_contracts.BaseContractEndView.as_view(),
        name="baseservicecontract_end",
    ),
    path(
        "carrier-lines/<int:pk>/confirm/",
        subscriber_contracts.CarrierLineConfirmView.as_view(),
        name="carrierlinecontract_confirm",
    ),
    path(
        "carrier-lines/<int:pk>/end/", subscriber_contracts.CarrierLineEndView.as_view(), name="carrierlinecontract_end"
    ),
    path("applications/", applications.ApplicationListView.as_view(), name="application_list"),
    path("applications/new/", applications.ApplicationCreateView.as_view(), name="application_create"),
    path("applications/<int:pk>/", applications.ApplicationDetailView.as_view(), name="application_detail"),
    path(
        "applications/<int:pk>/start-review/",
        applications.ApplicationStartReviewView.as_view(),
        name="application_start_review",
    ),
    path("applications/<int:pk>/quote/", applications.ApplicationSetQuoteView.as_view(), name="application_set_quote"),
    path("applications/<int:pk>/approve/", applications.ApplicationApproveView.as_view(), name="application_approve"),
    path("applications/<int:pk>/reject/", applications.ApplicationRejectView.as_view(), name="application_reject"),
    path(
        "applications/<int:pk>/withdraw/", applications.ApplicationWithdrawView.as_view(), name="application_withdraw"
    ),
    path("option-contracts/", option_contracts.OptionContractListView.as_view(), name="optioncontract_list"),
    path(
        "option-contracts/<int:pk>/",
        option_contracts.OptionContractDetailView.as_view(),
        name="optioncontract_detail",
    ),
    path(
        "option-contracts/<int:pk>/billing-start/",
        option_contracts.OptionContractBillingStartView.as_view(),
        name="optioncontract_billing_start",
    ),
    path(
        "option-contracts/<int:pk>/confirm-migrated/",
        option_contracts.OptionContractConfirmMigratedView.as_view(),
        name="optioncontract_confirm_migrated",
    ),
    path(
        "option-contracts/<int:pk>/correction/",
        option_contracts.OptionContractCorrectionView.as_view(),
        name="optioncontract_correction",
    ),
    path("revisions/<int:pk>/impact/", revisions.RevisionImpactView.as_view(), name="revision_impact"),
    path(
        "revisions/<int:pk>/impact/download/",
        revisions.RevisionImpactDownloadView.as_view(),
        name="revision_impact_download",
    ),
    path("ledger/", ledger.LedgerListView.as_view(), name="ledger_list"),
    path("ledger/<int:pk>/", ledger.LedgerEntryDetailView.as_view(), name="ledgerentry_detail"),
    path("ledger/<int:pk>/reverse/", ledger.LedgerEntryReverseView.as_view(), name="ledgerentry_reverse"),
    path("reports/monthly/", reports.MonthlyReportView.as_view(), name="monthly_report"),
    path("reports/monthly/figures/", reports.ReportFiguresRefreshView.as_view(), name="report_figures_refresh"),
    path("reports/monthly/download/", reports.MonthlyReportDownloadView.as_view(), name="monthly_report_download"),
    path("reports/monthly/preview/", reports.ClosePreviewView.as_view(), name="close_preview"),
    path("reports/monthly/close/", reports.MonthCloseView.as_view(), name="month_close"),
    path("reports/monthly/close/<int:pk>/", reports.MonthCloseJobView.as_view(), name="month_close_job"),
    path("reports/monthly/verify/", reports.LedgerVerifyView.as_view(), name="ledger_verify"),
    *history_urlpatterns(
        [
            (Subscriber, "contracts:subscriber_detail"),
            (Application, "contracts:application_detail"),
            (OptionContract, "contracts:optioncontract_detail"),
            (LedgerEntry, "contracts:ledgerentry_detail"),
            (BaseServiceContract, None),
            (CarrierLineContract, None),
            (MonthClose, None),
        ]
    ),
]

urlpatterns = [
    path("", home.HomeView.as_view(), name="home"),
    path("", include((contract_patterns, "contracts"))),
]
