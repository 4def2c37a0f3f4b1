"""The contract's state today for a template (DOMAIN §3.18); the rule is contracts.billing.timeline's."""

from django import template
from django.utils.html import format_html

from contracts.billing.timeline import contract_state_label, contract_state_on
from core import clock

register = template.Library()


@register.simple_tag
def contract_state_badge(contract) -> str:
    dates = {"billing_start_date": contract.billing_start_date, "end_date": contract.end_date, "on": clock.today()}
    return format_html('<span class="badge {}">{}</span>', contract_state_on(**dates), contract_state_label(**dates))
