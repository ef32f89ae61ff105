"""{% partial_erasure_kinds as kinds %}: the kinds of data a person can delete on their own
(privacy.rights.partial), for the privacy page's include, without a change to its view."""
from django import template

from privacy.rights.partial import partial_kinds

register = template.Library()


@register.simple_tag
def partial_erasure_kinds() -> list:
    return partial_kinds()
