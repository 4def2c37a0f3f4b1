"""Request guards that apply to every page before any view runs."""

from django.core.exceptions import FieldDoesNotExist
from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve


class RefuseNulCharactersMiddleware:
    """Answer 400 to a request whose parameters hold a NUL character.

    No field of the back office can hold one and PostgreSQL refuses it in any text, so such a request is a
    forgery or a broken client: it is refused with a Japanese page before a form, filter or search sees it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            return _refuse(request, "アドレス")
        key = _nul_key(request.GET) or (_nul_key(request.POST) if request.method == "POST" else None)
        if key is not None:
            return _refuse(request, _field_label(request, key))
        return self.get_response(request)


def _refuse(request, label: str):
    message = f"「{label}」に入力に使えない文字（NUL）が含まれています。入力内容を確かめてください。"
    return HttpResponseBadRequest(render_to_string("400.html", {"message": message}, request=request))


def _nul_key(data) -> str | None:
    """The first parameter whose name or value holds a NUL."""
    for key in data:
        if "\x00" in key or any("\x00" in v for v in data.getlist(key)):
            return key
    return None


def _field_label(request, key: str) -> str:
    """The label staff read for a parameter: the view's form or filter field, or the admin model's field."""
    if "\x00" in key:
        return "項目名"
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return key
    view = getattr(match.func, "view_class", None)
    for declared in (
        getattr(getattr(view, "form_class", None), "base_fields", None),
        getattr(getattr(view, "filterset_class", None), "base_filters", None),
    ):
        if declared and key in declared and getattr(declared[key], "label", None):
            return str(declared[key].label)
    model_admin = getattr(match.func, "model_admin", None)
    if model_admin is not None:
        try:
            return str(model_admin.model._meta.get_field(key.split("__", 1)[0]).verbose_name)
        except FieldDoesNotExist:
            pass
    return key
