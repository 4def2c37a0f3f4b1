"""How long a queue's item has waited, for a template: `{% waiting item queue %}` → 3日."""

from django import template

from contracts.queues import waited
from core import clock

register = template.Library()


@register.simple_tag
def waiting(item, queue) -> str:
    return waited(getattr(item, queue.since_field), clock.now())


@register.simple_tag
def waiting_since(item, queue):
    return getattr(item, queue.since_field)
