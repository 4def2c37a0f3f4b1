"""Request guards that apply to every page before any view runs."""

from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string


class RefuseNulCharactersMiddleware:
    """Answer 400 to a request whose parameters hold a NUL character.

    No field of the back office can hold one and PostgreSQL refuses it in any text, so such a request is a
    forgery or a broken client: it is refused with a Japanese page before a form, filter or search sees it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            body = render_to_string(
                "400.html",
                {"message": "入力に使えない文字（NUL）が含まれています。入力内容を確かめてください。"},
                request=request,
            )
            return HttpResponseBadRequest(body)
        return self.get_response(request)


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in data.getlist(key)) for key in data)
