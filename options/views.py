"""Tariff screens: revisions, the regulation as of a date, revision diffs, options over time."""

from django.db.models import Count, Prefetch
from django.views.generic import DetailView, TemplateView
from django_tables2 import SingleTableMixin, SingleTableView

from core.clock import today
from core.tables import PAGINATION
from core.views import StaffPermissionMixin, TableListMixin

from . import selectors
from .forms import AsOfForm, RevisionPairForm
from .models import EligibilityRule, FeeItem, Option, OptionVariant, Succession, TariffRevision
from .tables import FeeItemTable, OptionTable, RevisionTable


class RevisionListView(StaffPermissionMixin, TableListMixin, SingleTableView):
    permission_required = "options.view_tariffrevision"
    template_name = "options/revision_list.html"
    table_class = RevisionTable
    table_pagination = PAGINATION

    def get_queryset(self):
        return TariffRevision.objects.annotate(fee_item_count=Count("fee_items")).order_by("-effective_on", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["as_of_form"] = AsOfForm(initial={"on": today()})
        context["pair_form"] = RevisionPairForm()
        context["in_force"] = selectors.revision_in_force(on=today())
        return context


class RevisionDetailView(StaffPermissionMixin, SingleTableMixin, DetailView):
    permission_required = "options.view_tariffrevision"
    model = TariffRevision
    template_name = "options/revision_detail.html"
    table_class = FeeItemTable
    table_pagination = PAGINATION

    def get_table_data(self):
        return self.object.fee_items.select_related("option", "variant", "revision").order_by(
            "option__section__number", "option__name", "variant__code", "kind", "pk"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        revision = self.object
        context["previous"] = (
            TariffRevision.objects.filter(effective_on__lte=revision.effective_on)
            .exclude(pk=revision.pk)
            .order_by("-effective_on", "-amended_on", "-pk")
            .first()
        )
        context["successions"] = revision.successions.select_related("from_option", "to_option")
        return context


class TariffAsOfView(StaffPermissionMixin, TableListMixin, SingleTableMixin, TemplateView):
    """The regulation as it stood on a date: the revision in force and every fee item in force."""

    permission_required = "options.view_feeitem"
    export_name = "料金表"
    template_name = "options/tariff_as_of.html"
    table_class = FeeItemTable
    table_pagination = PAGINATION

    def get(self, request, *args, **kwargs):
        # Today unless a date was asked for (the CSV download's `?export=csv` alone asks for none).
        self.form = AsOfForm(request.GET if "on" in request.GET else {"on": today().isoformat()})
        self.on = self.form.cleaned_data["on"] if self.form.is_valid() else None
        return super().get(request, *args, **kwargs)

    def get_table_data(self):
        if self.on is None:
            return FeeItem.objects.none()
        return selectors.fee_items_in_force(on=self.on)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = self.form
        context["on"] = self.on
        if self.on is not None:
            context["revision"] = selectors.revision_in_force(on=self.on)
            context["options"] = selectors.options_orderable(on=self.on).order_by("section__number", "name", "pk")
        return context


class RevisionDiffView(StaffPermissionMixin, TemplateView):
    """What changed in the fee table between any two revisions."""

    permission_required = "options.view_tariffrevision"
    template_name = "options/revision_diff.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = RevisionPairForm(self.request.GET or None)
        context["form"] = form
        if form.is_valid():
            older, newer = form.cleaned_data["older"], form.cleaned_data["newer"]
            if older.effective_on > newer.effective_on:
                older, newer = newer, older
            context["older"], context["newer"] = older, newer
            context["changes"] = selectors.revision_diff(older=older, newer=newer)
        return context


class OptionListView(StaffPermissionMixin, TableListMixin, SingleTableView):
    permission_required = "options.view_option"
    template_name = "options/option_list.html"
    table_class = OptionTable
    table_pagination = PAGINATION

    def get_queryset(self):
        return Option.objects.select_related("section").order_by("section__number", "name", "pk")


class OptionDetailView(StaffPermissionMixin, SingleTableMixin, DetailView):
    """An option with its variants, conditions of use, successions and its fee items over time."""

    permission_required = "options.view_option"
    template_name = "options/option_detail.html"
    table_class = FeeItemTable
    table_pagination = PAGINATION
    exclude_columns = ("option",)

    def get_queryset(self):
        return Option.objects.select_related("section").prefetch_related(
            Prefetch("variants", queryset=OptionVariant.objects.select_related("service").order_by("code", "pk")),
            Prefetch(
                "eligibility_rules",
                queryset=EligibilityRule.objects.prefetch_related("services", "carrier_services__carrier"),
            ),
            Prefetch("successions_out", queryset=Succession.objects.select_related("to_option", "revision")),
            Prefetch("successions_in", queryset=Succession.objects.select_related("from_option", "revision")),
        )

    def get_table_data(self):
        return selectors.fee_history(option=self.object).select_related("option")

    def get_table_kwargs(self):
        return {"exclude": self.exclude_columns}
