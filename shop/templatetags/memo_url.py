"""{% url %} that reverses a URL without arguments once per process (issue 15).

A page frame reverses about ten fixed URLs (home, cart, sign-in, the footer's links) on every
request; reversing was a sixth of a signed-in product page. A URL with no arguments depends only
on the view's name, the URL configuration, the script prefix, the current application and the
language, so the answer is kept under exactly those. URLs with arguments (products, policy
versions) are reversed each time, as Django does, so what is kept stays bounded by the number of
fixed names in the templates. Installed as a template builtin (settings.TEMPLATES), it replaces
Django's tag of the same name with the same syntax and output.
"""
from __future__ import annotations

from django import template
from django.template import defaulttags
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()
_reversed: dict[tuple, str] = {}


class MemoURLNode(defaulttags.URLNode):
    def render(self, context):
        if self.args or self.kwargs:
            return super().render(context)
        view_name = self.view_name.resolve(context)
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        key = (view_name, current_app, get_urlconf(), get_script_prefix(), get_language())
        url = _reversed.get(key)
        if url is None:
            if self.asvar:  # an unknown name gives "" there: Django's path, nothing kept
                return super().render(context)
            url = _reversed[key] = reverse(view_name, current_app=current_app)
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return MemoURLNode(node.view_name, node.args, node.kwargs, node.asvar)
