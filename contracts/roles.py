"""Staff roles (DOMAIN §3.15) as one declaration: group name → permissions ("app_label.codename")."""

CLERK = "受付担当"
APPROVER = "承認者"
ACCOUNTING = "経理"
TARIFF_MANAGER = "規程管理"
SYSTEM_ADMIN = "システム管理者"

_CATALOGUE_MODELS = [
    "service",
    "carrier",
    "carrierservice",
    "section",
    "option",
    "optionvariant",
    "eligibilityrule",
    "tariffrevision",
    "feeitem",
    "succession",
]
_CONTRACT_RECORDS = ["subscriber", "baseservicecontract", "carrierlinecontract", "optioncontract", "application"]


def _view(app_label, models):
    return [f"{app_label}.view_{m}" for m in models]


def _edit(app_label, models):
    return [f"{app_label}.{action}_{m}" for m in models for action in ("add", "change")]


_READ_CATALOGUE = _view("options", _CATALOGUE_MODELS)
# Personal data and what is tied to a person: subscribers (names, phone numbers, addresses), the contracts and
# applications they hold, their terms over time, the ledger of what they owe, and the month closes over it.
_READ_RECORDS = _view("contracts", _CONTRACT_RECORDS + ["contractterms", "ledgerentry", "monthclose"])
_READ_ALL = _READ_CATALOGUE + _READ_RECORDS
# Publishing a revision is the colleague's step of the four eyes (the service refuses the revision's own authors);
# its impact preview shows contracts by number, option and amount only, never a subscriber.
_PUBLISH = ["options.publish_tariffrevision"]
_PREVIEW = ["options.preview_tariffrevision"]
# 勘定科目の対応 (accounting app): how the month's money is booked in the accounting system; 経理 keeps it.
_MAPPINGS = ["accounting.view_accountmapping", "accounting.add_accountmapping", "accounting.change_accountmapping"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    CLERK: _READ_ALL + _edit("contracts", _CONTRACT_RECORDS),
    # 承認者 and システム管理者 may read the close's preview (仮締め): the approver, who decides what the ledger
    # holds, checks what the close will write; only 経理 (and システム管理者) close.
    APPROVER: _READ_ALL + ["contracts.decide_application", "contracts.reverse_ledgerentry", "contracts.preview_close"],
    ACCOUNTING: _READ_ALL
    + _MAPPINGS
    + ["contracts.export_report", "contracts.close_month", "contracts.preview_close"]
    + _PREVIEW,
    # Need to know: the catalogue and its revisions only. None of its screens shows a contract, and whether a
    # revision is cited by the ledger is told by the catalogue services' refusal, not by reading the ledger.
    TARIFF_MANAGER: _READ_CATALOGUE
    + _edit("options", _CATALOGUE_MODELS)
    + ["options.delete_tariffrevision"]
    + _PUBLISH
    + _PREVIEW,
    SYSTEM_ADMIN: _READ_ALL
    + _MAPPINGS
    + _edit("options", _CATALOGUE_MODELS)
    + _PUBLISH
    + _PREVIEW
    + _edit("contracts", _CONTRACT_RECORDS)
    + [
        "contracts.decide_application",
        "contracts.reverse_ledgerentry",
        "contracts.export_report",
        "contracts.close_month",
        "contracts.preview_close",
        "auth.view_user",
        "auth.add_user",
        # The export log (電子帳簿保存法) and every job's file, whoever asked for it.
        "exports.view_exportlog",
        "exports.download_any_exportjob",
        "auth.change_user",
    ],
}


def sync_roles(group_model, permission_model) -> None:
    """Create or update each role group with exactly its declared permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.append(permission_model.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
