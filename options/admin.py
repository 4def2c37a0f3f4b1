"""Admin data entry for the catalogue: every save and delete states its reason, which goes to the history.

Revisions and fee items are saved and deleted only through options.services, so a revision that ledger
rows cite cannot be edited or deleted here; the refusal is an admin message, never a 500 (core.admin).
"""

from django.contrib import admin

from core.admin import REASON_FIELD, ReasonForm, RecordAdmin, refuse_as_form_error

from . import services
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
from .services.revisions import revision_draft_save


class RevisionForm(ReasonForm):
    def clean(self):
        data = super().clean()
        if self.instance.pk and set(self.changed_data) - {REASON_FIELD}:
            refuse_as_form_error(services.revision_assert_editable, self.instance)
        return data


class FeeItemForm(ReasonForm):
    def clean(self):
        data = super().clean()
        if data.get("revision") is not None:
            refuse_as_form_error(services.revision_assert_editable, data["revision"])
        if self.instance.pk:
            refuse_as_form_error(services.revision_assert_editable, self.instance.revision)
        return data


@admin.register(Service)
class ServiceAdmin(RecordAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


@admin.register(Carrier)
class CarrierAdmin(RecordAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


@admin.register(CarrierService)
class CarrierServiceAdmin(RecordAdmin):
    list_display = ("name", "carrier", "code")
    list_filter = ("carrier",)
    search_fields = ("name", "code", "carrier__name")
    list_select_related = ("carrier",)


@admin.register(Section)
class SectionAdmin(RecordAdmin):
    list_display = ("number", "title")
    search_fields = ("title",)


class OptionVariantInline(admin.TabularInline):
    model = OptionVariant
    extra = 0
    show_change_link = True
    can_delete = False
    fields = ("code", "name", "service")
    readonly_fields = ("code", "name", "service")

    def has_add_permission(self, request, obj=None):
        return False  # variants are entered on their own page, with a reason


@admin.register(Option)
class OptionAdmin(RecordAdmin):
    list_display = ("name", "section", "status", "retired_on", "condition_article", "fee_article", "annex_ref")
    list_filter = ("section", "status")
    search_fields = ("name", "code", "description")
    list_select_related = ("section",)
    inlines = [OptionVariantInline]
    # Set by a draft revision through options.services.revisions (added / retired on publishing), never here.
    readonly_fields = ("introduced_by", "retired_by")


@admin.register(OptionVariant)
class OptionVariantAdmin(RecordAdmin):
    list_display = ("name", "option", "code", "service")
    list_filter = ("option",)
    search_fields = ("name", "code", "option__name")
    list_select_related = ("option", "service")


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(RecordAdmin):
    list_display = ("option", "article", "kind")
    list_filter = ("kind", "option")
    search_fields = ("option__name", "article", "description")
    list_select_related = ("option",)
    filter_horizontal = ("services", "carrier_services")


@admin.register(TariffRevision)
class TariffRevisionAdmin(RecordAdmin):
    form = RevisionForm
    list_display = ("title", "amended_on", "effective_on", "status")
    list_filter = ("effective_on",)
    search_fields = ("title", "provisions")
    date_hierarchy = "effective_on"
    readonly_fields = ("status", "drafted_by", "published_by", "published_at")

    def save_record(self, obj, *, actor, reason):
        if obj.pk is None:
            # Entered here too, a new revision prices nothing until a colleague publishes it (the staff screens).
            revision_draft_save.joined(revision=obj, actor=actor, reason=reason)
            return
        services.revision_save.joined(revision=obj, actor=actor, reason=reason)

    def delete_record(self, obj, *, actor, reason):
        services.revision_delete.joined(revision=obj, actor=actor, reason=reason)


@admin.register(FeeItem)
class FeeItemAdmin(RecordAdmin):
    form = FeeItemForm
    list_display = ("name", "option", "variant", "kind", "price", "revision", "discontinued")
    list_filter = ("kind", "pricing", "discontinued", "option", "revision")
    search_fields = ("name", "option__name", "variant__name", "revision__title", "article")
    list_select_related = ("option", "variant", "revision")

    @admin.display(description="料金")
    def price(self, obj):
        return obj.price_label

    def save_record(self, obj, *, actor, reason):
        services.fee_item_save.joined(fee_item=obj, actor=actor, reason=reason)

    def delete_record(self, obj, *, actor, reason):
        services.fee_item_delete.joined(fee_item=obj, actor=actor, reason=reason)


@admin.register(Succession)
class SuccessionAdmin(RecordAdmin):
    list_display = ("from_option", "to_option", "effective_on", "provision")
    search_fields = ("from_option__name", "to_option__name", "provision")
    list_select_related = ("from_option", "to_option")
