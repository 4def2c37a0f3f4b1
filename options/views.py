"""Tariff screens: revisions, the regulation as of a date, revision diffs, options over time."""

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Count, Prefetch
from django.shortcuts import redirect
from django.views.generic import DetailView, FormView, TemplateView
from django.views.generic.detail import SingleObjectMixin
from django_tables2 import SingleTableMixin, SingleTableView

from core.clock import today
from core.errors import DomainError
from core.tables import PAGINATION
from core.views import StaffPermissionMixin, TableListMixin

from . import selectors
from .choices import REVISION_TRANSITIONS, RevisionStatus
from .forms import (
    AsOfForm,
    DraftOptionAddForm,
    DraftOptionRetireForm,
    DraftSuccessionForm,
    DraftSuccessionWithdrawForm,
    FeeItemDraftForm,
    RevisionDraftForm,
    RevisionPairForm,
    RevisionTransitionForm,
)
from .models import EligibilityRule, FeeItem, Option, OptionVariant, Succession, TariffRevision
from .services.revisions import (
    draft_fee_item_save,
    draft_option_add,
    draft_option_retire,
    draft_succession_delete,
    draft_succession_save,
    revision_draft_save,
    revision_transition,
)
from .tables import FeeItemTable, OptionTable, RevisionTable

# What each transition is called on the revision's page, and who may press it.
TRANSITION_BUTTONS = {
    RevisionStatus.REVIEW: ("確認を依頼する", "options.change_tariffrevision"),
    RevisionStatus.DRAFT: ("差し戻す", "options.change_tariffrevision"),
    RevisionStatus.PUBLISHED: ("公開する", "options.publish_tariffrevision"),
}


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

    def get_queryset(self):
        return TariffRevision.objects.select_related("drafted_by", "published_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        revision = self.object
        user = self.request.user
        context["previous"] = selectors.revision_compared_with(revision)
        context["successions"] = revision.successions.select_related("from_option", "to_option")
        context["options_added"] = revision.options_introduced.select_related("section").order_by("name", "pk")
        context["options_retired"] = revision.options_retired.select_related("section").order_by("name", "pk")
        is_draft = revision.status == RevisionStatus.DRAFT
        context["can_edit"] = is_draft and user.has_perm("options.change_tariffrevision")
        context["can_add_items"] = is_draft and user.has_perm("options.add_feeitem")
        context["can_edit_items"] = is_draft and user.has_perm("options.change_feeitem")
        context["can_add_options"] = is_draft and all(
            user.has_perm(p) for p in ("options.add_option", "options.add_optionvariant", "options.add_eligibilityrule")
        )
        context["can_retire_options"] = is_draft and user.has_perm("options.change_option")
        context["can_add_successions"] = is_draft and user.has_perm("options.add_succession")
        context["can_withdraw_successions"] = is_draft and user.has_perm("options.change_succession")
        transitions = [
            to for to in sorted(REVISION_TRANSITIONS[revision.status]) if user.has_perm(TRANSITION_BUTTONS[to][1])
        ]
        # The four eyes: the service refuses a revision's author; the page does not offer it to them.
        context["is_author"] = RevisionStatus.PUBLISHED in transitions and user.pk in selectors.revision_authors(
            revision
        )
        if context["is_author"]:
            transitions.remove(RevisionStatus.PUBLISHED)
        context["transitions"] = [(to, TRANSITION_BUTTONS[to][0]) for to in transitions]
        context["transition_form"] = kwargs.get("transition_form") or RevisionTransitionForm()
        context["can_preview"] = user.has_perm("options.preview_tariffrevision") and (
            revision.is_draft or revision.effective_on > today()
        )
        if context["can_add_items"]:
            context["in_force"] = selectors.fee_items_in_force(on=revision.effective_on)
        context["own_items"] = list(self.get_table_data()) if context["can_edit_items"] else []
        return context


class RevisionTransitionView(RevisionDetailView):
    """Send a draft for review, send it back, or publish it (options.services.revisions.revision_transition)."""

    http_method_names = ["post"]
    permission_required = "options.change_tariffrevision"

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = RevisionTransitionForm(request.POST)
        if form.is_valid():
            to = form.cleaned_data["to"]
            try:
                revision_transition(revision=self.object, to=to, actor=request.user, reason=form.cleaned_data["reason"])
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"改定「{self.object.title}」を{RevisionStatus(to).label}にしました。")
                return redirect("options:revision_detail", pk=self.object.pk)
        self.object = self.get_object()
        context = self.get_context_data(transition_form=form)
        context["action_errors"] = _form_errors(form)
        return self.render_to_response(context)


def _form_errors(form) -> list[str]:
    """Every error of a refused form for the top of the page, each field's named by its label (the form itself
    may not be on the page for the revision's state)."""
    errors = list(form.non_field_errors())
    for name, field_errors in form.errors.items():
        if name != NON_FIELD_ERRORS:
            errors += [f"{form.fields[name].label}: {error}" for error in field_errors]
    return errors


class _ServiceFormView(StaffPermissionMixin, FormView):
    """A form whose valid data a service saves; the service's refusal is the form's error and nothing is saved."""

    success_message = ""

    def save(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            saved = self.save(form)
        except DomainError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(self.request, self.success_message.format(saved))
        return redirect("options:revision_detail", pk=self.revision_pk(saved))

    def revision_pk(self, saved) -> int:
        return saved.pk if isinstance(saved, TariffRevision) else saved.revision_id


class _RecordFormView(SingleObjectMixin, _ServiceFormView):
    def dispatch(self, request, *args, **kwargs):
        # The permission before the record: a missing record and an existing one both answer 403 without it.
        if not self.has_permission():
            return self.handle_no_permission()
        self.object = self.get_object()
        return super().dispatch(request, *args, **kwargs)


class RevisionCreateView(_ServiceFormView):
    permission_required = "options.add_tariffrevision"
    template_name = "options/revision_form.html"
    form_class = RevisionDraftForm
    success_message = "改定案「{}」を下書きとして登録しました。料金細目を追加してください。"

    def save(self, form):
        return revision_draft_save(
            revision=form.instance, actor=self.request.user, reason=_reason(form, "改定案の起案")
        )


class RevisionUpdateView(_RecordFormView):
    permission_required = "options.change_tariffrevision"
    template_name = "options/revision_form.html"
    form_class = RevisionDraftForm
    model = TariffRevision
    success_message = "改定案「{}」を変更しました。"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": TariffRevision.objects.get(pk=self.object.pk)}

    def save(self, form):
        return revision_draft_save(revision=form.instance, actor=self.request.user, reason=form.cleaned_data["reason"])


class FeeItemCreateView(_RecordFormView):
    """A fee item of a draft; `?from=<fee item>` starts from an item in force (to change it), `&discontinue=1`
    to end it."""

    permission_required = "options.add_feeitem"
    template_name = "options/feeitem_form.html"
    form_class = FeeItemDraftForm
    model = TariffRevision
    success_message = "料金細目「{}」を改定案に追加しました。"

    def get_initial(self):
        source = FeeItem.objects.filter(pk=_int(self.request.GET.get("from"))).first()
        if source is None:
            return {"article": "", "proration": "daily"}
        fields = FeeItemDraftForm.Meta.fields
        initial = {name: getattr(source, name) for name in fields if name not in ("option", "variant")}
        initial.update(option=source.option_id, variant=source.variant_id, discontinued=False)
        if self.request.GET.get("discontinue") == "1":
            initial["discontinued"] = True
        return initial

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": FeeItem(revision=self.object)}

    def save(self, form):
        return draft_fee_item_save(
            fee_item=form.instance, actor=self.request.user, reason=_reason(form, "改定案の料金細目")
        )


class FeeItemUpdateView(_RecordFormView):
    permission_required = "options.change_feeitem"
    template_name = "options/feeitem_form.html"
    form_class = FeeItemDraftForm
    model = FeeItem
    success_message = "料金細目「{}」を変更しました。"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": FeeItem.objects.get(pk=self.object.pk)}

    def save(self, form):
        return draft_fee_item_save(fee_item=form.instance, actor=self.request.user, reason=form.cleaned_data["reason"])


class _DraftRecordFormView(_RecordFormView):
    """A form about one draft revision (the URL's pk), back to the draft's page when saved."""

    model = TariffRevision

    def revision_pk(self, saved) -> int:
        return self.object.pk

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "revision": self.object}


class DraftOptionAddView(_DraftRecordFormView):
    permission_required = "options.add_option"  # the service also asks for its variants' and rules' permissions
    template_name = "options/draft_option_form.html"
    form_class = DraftOptionAddForm
    success_message = "オプション「{}」を改定案に追加しました（公開され実施日を迎えるまで申込・契約はできません）。"

    def get_initial(self):
        return {"condition_article": "", "fee_article": ""}

    def save(self, form):
        data = form.cleaned_data
        return draft_option_add(
            revision=self.object,
            option=form.instance,
            variants=[(data["variant_code"], data["variant_name"])],
            services=data["services"],
            actor=self.request.user,
            reason=_reason(form, "改定案によるオプションの追加"),
        )


class DraftOptionRetireView(_DraftRecordFormView):
    """Retire an option by the draft (or, with `withdraw`, take the retirement back)."""

    permission_required = "options.change_option"
    template_name = "options/draft_option_retire.html"
    form_class = DraftOptionRetireForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "revision": self.object}

    def save(self, form):
        withdraw = form.cleaned_data["withdraw"]
        self.success_message = (
            "オプション「{}」の廃止を取り消しました。"
            if withdraw
            else "オプション「{}」を改定案で廃止します（公開時に実施日で廃止）。"
        )
        default = "改定案からオプションの廃止を取り消し" if withdraw else "改定案によるオプションの廃止"
        return draft_option_retire(
            revision=self.object,
            option=form.cleaned_data["option"],
            retire=not withdraw,
            actor=self.request.user,
            reason=_reason(form, default),
        )


class DraftSuccessionCreateView(_DraftRecordFormView):
    permission_required = "options.add_succession"
    template_name = "options/draft_succession_form.html"
    form_class = DraftSuccessionForm
    success_message = "承継「{}」を改定案に定めました。"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": Succession(revision=self.object)}

    def save(self, form):
        return draft_succession_save(
            succession=form.instance, actor=self.request.user, reason=_reason(form, "改定案による承継の定め")
        )


class DraftSuccessionWithdrawView(_DraftRecordFormView):
    http_method_names = ["post"]
    permission_required = "options.change_succession"
    template_name = "options/draft_option_retire.html"
    form_class = DraftSuccessionWithdrawForm
    success_message = "承継「{}」を取り消しました。"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "revision": self.object}

    def form_invalid(self, form):
        messages.error(self.request, "取り消せませんでした。" + " ".join(_form_errors(form)))
        return redirect("options:revision_detail", pk=self.object.pk)

    def save(self, form):
        succession = form.cleaned_data["succession"]
        label = str(succession)
        draft_succession_delete(
            succession=succession, actor=self.request.user, reason=_reason(form, "改定案から承継を取り消し")
        )
        return label


def _reason(form, default: str) -> str:
    return form.cleaned_data.get("reason") or default


def _int(text) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 12 else None


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
        # An option an unpublished draft adds is listed on that draft's page, not in the catalogue.
        return selectors.catalogue_options().select_related("section").order_by("section__number", "name", "pk")


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
