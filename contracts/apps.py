from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs) -> None:
    """After every migrate, the role groups hold exactly what contracts.roles declares (DOMAIN §3.15).

    A migration would freeze the declaration as it was when written; the roles change with the code, so they are
    synced from the live declaration once all permissions exist.
    """
    from django.contrib.auth.models import Group, Permission

    from contracts.roles import sync_roles

    sync_roles(Group, Permission)


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "契約・申込・支払義務"

    def ready(self) -> None:
        # Sent once per app after migrate; contracts' comes after auth's and options', whose permissions it needs.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="contracts.sync_roles")
        # Publishing a revision asks the book (the catalogue never imports it): see options.services.revisions.
        from contracts.billing.revision_guards import closed_month_refusal, unpriceable_refusal
        from contracts.selectors import succession_unpriced_refusal
        from options.services.revisions import register_publish_guard

        register_publish_guard("closed_month", closed_month_refusal)
        register_publish_guard("unpriceable_contracts", unpriceable_refusal)
        register_publish_guard("succession_unpriced", succession_unpriced_refusal)
