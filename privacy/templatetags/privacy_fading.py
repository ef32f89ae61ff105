"""The privacy page's "what happens next to your data" list, computed where it is shown so the
page's view needs no change: {% load privacy_fading %}{% fading_list user %}."""
from django import template

from privacy.retention.fading import fading_for

register = template.Library()


@register.simple_tag
def fading_list(user) -> list:
    return fading_for(user)
