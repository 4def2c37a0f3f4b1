"""Row locks in the one order every service takes them: subscriber → option contract → application.

Taking them in one order means two services never wait on each other in a cycle (no deadlock), and
re-reading the row under the lock is what makes a second, concurrent decision see the first one.
"""

from contracts.models import Application, LedgerEntry, OptionContract, Subscriber


def lock_subscriber(subscriber: Subscriber | int) -> Subscriber:
    pk = getattr(subscriber, "pk", subscriber)
    return Subscriber.objects.select_for_update().get(pk=pk)


def lock_option_contract(option_contract: OptionContract | int) -> OptionContract:
    pk = getattr(option_contract, "pk", option_contract)
    return OptionContract.objects.select_for_update(of=("self",)).select_related("option", "variant").get(pk=pk)


def lock_application(application: Application | int) -> Application:
    pk = getattr(application, "pk", application)
    return Application.objects.select_for_update(of=("self",)).select_related("option", "variant").get(pk=pk)


def lock_ledger_entry(entry: LedgerEntry | int) -> LedgerEntry:
    """Re-read a ledger row under its option contract's lock, which the caller takes first.

    No row lock of its own: FOR UPDATE needs UPDATE on the ledger, which the app role does not have. None is
    needed: a row never changes, the option contract's lock serialises the reversals of its rows, and
    `reverses` is unique.
    """
    pk = getattr(entry, "pk", entry)
    return LedgerEntry.objects.get(pk=pk)
