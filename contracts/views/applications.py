"""Applications: list, the two-step new application (確認 → 申込), detail with review and decision actions."""

from functools import partial

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import DetailView, FormView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from contracts import selectors
from contracts.choices import ApplicationKind
from contracts.filters import ApplicationFilter
from contracts.forms import ApplicationForm, ApproveForm, ConfirmForm, QuoteForm, ReasonForm, variant_label
from contracts.models import Application, BaseServiceContract, CarrierLineContract, OptionContract
from contracts.services import applications as services
from contracts.tables import ApplicationTable
from core import clock
from core.errors import DomainError
from core.tables import PAGINATION
from core.views import TableListMixin
from options.models import OptionVariant
from options.selectors import options_orderable, variant_is_quoted

from .base import ActionView, StaffPermissionMixin, add_domain_error
from .queues import queue_of

KIND_TITLES = {
    ApplicationKind.NEW: "新規利用申込",
    ApplicationKind.CHANGE: "契約内容変更申込",
    ApplicationKind.CANCEL: "解約申込",
}


class ApplicationListView(StaffPermissionMixin, TableListMixin, SingleTableMixin, FilterView):
    permission_required = "contracts.view_application"
    template_name = "contracts/application_list.html"
    filterset_class = ApplicationFilter
    table_class = ApplicationTable
    table_pagination = PAGINATION
    queryset = Application.objects.select_related(
        "subscriber", "option", "variant", "entered_by", "decided_by"
    ).order_by("-entered_at", "-pk")


def _preview(*, option, variant, quantity, quoted_amount_yen, on):
    """Return (priced rows, error message): the fee preview, or why it cannot be priced."""
    if option is None or variant is None or not quantity:
        return None, ""
    try:
        return (
            selectors.fee_preview(
                option=option, variant=variant, quantity=quantity, quoted_amount_yen=quoted_amount_yen, on=on
            ),
            "",
        )
    except DomainError as error:
        return None, str(error)


class ApplicationCreateView(StaffPermissionMixin, FormView):
    """A new application in two steps: 確認 (eligibility and fee preview, nothing saved), then 申込."""

    permission_required = "contracts.add_application"
    template_name = "contracts/application_form.html"
    form_class = ApplicationForm

    def get_target_contract(self) -> OptionContract | None:
        pk = self.request.POST.get("option_contract") or self.request.GET.get("option_contract")
        if not pk:
            return None
        try:
            return OptionContract.objects.select_related("subscriber", "option", "variant").get(pk=int(pk))
        except (ValueError, OptionContract.DoesNotExist):
            raise Http404("オプション契約が見つかりません。") from None

    def get_variants(self, contract):
        variants = OptionVariant.objects.select_related("option", "option__section")
        if contract is not None:
            variants = variants.filter(option=contract.option_id)
        else:
            variants = variants.filter(option__in=options_orderable(on=clock.today()))
        return variants.order_by("option__section__number", "option__name", "code", "pk")

    def get_initial(self):
        contract = self.get_target_contract()
        kind = self.request.GET.get("kind")
        initial = {"kind": kind if kind in ApplicationKind.values else ApplicationKind.NEW, "quantity": 1}
        if contract is not None:
            initial.update(
                option_contract=contract.pk,
                subscriber_code=contract.subscriber.code,
                variant=contract.variant_id,
                quantity=contract.quantity,
                quoted_amount_yen=contract.quoted_amount_yen,
            )
        elif self.request.GET.get("subscriber"):
            initial["subscriber_code"] = self.request.GET["subscriber"]
        return initial

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        self.contract = self.get_target_contract()
        kwargs["variants"] = self.get_variants(self.contract)
        kwargs["find_subscriber"] = partial(selectors.subscriber_find, on=clock.today())
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        kind = form._kind()
        context["kind"] = kind
        context["kind_title"] = KIND_TITLES[kind]
        if kind == ApplicationKind.NEW:
            context["retired_options"] = selectors.retired_options(on=clock.today())
            context["lookup_url"] = reverse("contracts:subscriber_lookup")
            context["subscriber_shown"] = self.subscriber_shown(form)
        context["contract"] = self.contract
        return context

    def subscriber_shown(self, form):
        """The subscriber the form names now, to show who it is (code, name, フリガナ, base contracts)."""
        if form.is_bound:  # found by the form's own lookup (selectors.subscriber_find), base contracts and all
            return getattr(form, "cleaned_data", {}).get("subscriber")
        code = form.initial.get("subscriber_code") or ""
        return selectors.subscriber_by_code(code, on=clock.today()) if code else None

    def form_valid(self, form):
        step = self.request.POST.get("step", "confirm")
        if step == "submit":
            return self.submit(form)
        if step == "edit":
            return self.render_to_response(self.get_context_data(form=form))
        return self.confirm(form)

    def confirm(self, form):
        """確認: the checks 申込 runs (services.application_check), each refusal by its field; then the fees."""
        try:
            application = services.application_check(actor=self.request.user, **form.submit_kwargs())
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        data = form.cleaned_data
        today = clock.today()
        eligibility = None
        if application.kind == ApplicationKind.NEW:
            basis = application.base_contract or application.carrier_line
            eligibility = selectors.EligibilityResult(True, "", "", basis)
        priced, preview_error = _preview(
            option=application.option,
            variant=application.variant,
            quantity=application.quantity,
            quoted_amount_yen=application.quoted_amount_yen,
            on=today,
        )
        quote_pending = (
            application.variant is not None
            and application.quoted_amount_yen is None
            and variant_is_quoted(variant=application.variant, on=today)
        )
        return self.render_to_response(
            self.get_context_data(
                form=form,
                confirming=True,
                eligibility=eligibility,
                priced=priced,
                preview_error=preview_error,
                quote_pending=quote_pending,
                can_submit=True,  # 申込 runs the checks just passed
                on=today,
                variant_text=variant_label(data["variant"]) if data.get("variant") else "",
                totals=selectors.fee_totals(priced, on=today) if priced else None,
            )
        )

    def submit(self, form):
        try:
            application = services.application_submit(actor=self.request.user, **form.submit_kwargs())
        except DomainError as error:
            add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"申込 #{application.pk}（{application.get_kind_display()}）を受け付けました。")
        return redirect("contracts:application_detail", pk=application.pk)


class ApplicationDetailView(StaffPermissionMixin, DetailView):
    """Facts, eligibility re-check, fee preview and the actions the viewer may take now."""

    permission_required = "contracts.view_application"
    template_name = "contracts/application_detail.html"
    # Seven tables joined, the application's contract (new: its base contract or line; change and cancel: the option
    # contract) read by its own small query: one join of all fourteen took PostgreSQL 7–16 ms to plan (past
    # geqo_threshold = 12), more than the approval's writes. A relation left empty is not queried.
    queryset = Application.objects.select_related(
        "subscriber", "option", "variant", "entered_by", "decided_by", "quoted_by"
    ).prefetch_related(
        Prefetch("option_contract", queryset=OptionContract.objects.select_related("option", "variant")),
        Prefetch("base_contract", queryset=BaseServiceContract.objects.select_related("service")),
        Prefetch("carrier_line", queryset=CarrierLineContract.objects.select_related("carrier_service")),
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = self.object
        user = self.request.user
        today = clock.today()
        actions = selectors.application_actions(application, user, on=today)
        context.update(
            actions=actions,
            start_review_form=kwargs.get("start_review_form") or ConfirmForm(),
            approve_form=kwargs.get("approve_form")
            or ApproveForm(initial={"version": services.application_terms_version(application)}),
            reject_form=kwargs.get("reject_form") or ReasonForm(reason_label="不承諾の理由"),
            withdraw_form=kwargs.get("withdraw_form") or ReasonForm(reason_label="取下げの理由"),
            quote_form=kwargs.get("quote_form") or QuoteForm(initial={"amount_yen": application.quoted_amount_yen}),
            ledger_entries=application.ledger_entries.select_related("revision", "fee_item").order_by("pk"),
            created_contract=OptionContract.objects.filter(origin_application=application).first(),
            queue=queue_of(self.request, self.request.GET.get("queue"), detail="contracts:application_detail"),
        )
        if actions.is_open:
            context["on"] = today
            if application.kind == ApplicationKind.NEW:  # as 確認 shows it: what 申込 checked, as of today
                context["eligibility"] = selectors.new_use_evaluate(
                    subscriber=application.subscriber, option=application.option, on=today, pending=application
                )
            if application.kind != ApplicationKind.CANCEL:
                context["priced"], context["preview_error"] = _preview(
                    option=application.option,
                    variant=application.variant,
                    quantity=application.quantity,
                    quoted_amount_yen=application.quoted_amount_yen,
                    on=today,
                )
                if context["priced"]:
                    context["totals"] = selectors.fee_totals(context["priced"], on=today)
        return context


class _ApplicationAction(ActionView, ApplicationDetailView):
    success_url_name = "contracts:application_detail"


class ApplicationStartReviewView(_ApplicationAction):
    permission_required = "contracts.decide_application"
    form_class = ConfirmForm
    form_context_name = "start_review_form"
    success_message = "審査を開始しました。"
    queue_key = "received"

    def perform(self, form):
        return services.application_start_review(application=self.object, actor=self.request.user)


class ApplicationSetQuoteView(_ApplicationAction):
    permission_required = ()
    form_class = QuoteForm
    form_context_name = "quote_form"
    success_message = "見積額を登録しました。"

    def has_permission(self):
        user = self.request.user
        return user.has_perm("contracts.change_application") or user.has_perm("contracts.decide_application")

    def perform(self, form):
        return services.application_set_quote(
            application=self.object, amount_yen=form.cleaned_data["amount_yen"], actor=self.request.user
        )


class ApplicationApproveView(_ApplicationAction):
    permission_required = "contracts.decide_application"
    form_class = ApproveForm
    form_context_name = "approve_form"
    queue_key = "review"

    def perform(self, form):
        return services.application_approve(
            application=self.object, actor=self.request.user, seen_version=form.cleaned_data["version"]
        )

    def get_success_message(self, application) -> str:
        return selectors.approval_summary(application)


class ApplicationRejectView(_ApplicationAction):
    permission_required = "contracts.decide_application"
    form_class = ReasonForm
    form_context_name = "reject_form"
    form_kwargs = {"reason_label": "不承諾の理由"}
    success_message = "不承諾としました。"
    queue_key = "review"

    def perform(self, form):
        return services.application_reject(
            application=self.object, reason=form.cleaned_data["reason"], actor=self.request.user
        )


class ApplicationWithdrawView(_ApplicationAction):
    permission_required = "contracts.change_application"
    form_class = ReasonForm
    form_context_name = "withdraw_form"
    form_kwargs = {"reason_label": "取下げの理由"}
    success_message = "申込を取り下げました。"

    def perform(self, form):
        return services.application_withdraw(
            application=self.object, reason=form.cleaned_data["reason"], actor=self.request.user
        )
