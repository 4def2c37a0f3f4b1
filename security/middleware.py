"""Response headers for signed-in staff."""

from django.utils.cache import add_never_cache_headers

from .sessions import SessionLifetimeMiddleware

__all__ = ["NoStoreForStaffMiddleware", "SessionLifetimeMiddleware"]


class NoStoreForStaffMiddleware:
    """`Cache-Control: no-store` (and private, no-cache, max-age=0) on every response to a signed-in user.

    Staff pages, the admin and every export, streamed ones included (only headers are touched), so that neither a
    shared proxy nor the browser's disk keeps subscriber data after logout. Static files are answered by whitenoise
    before this runs and stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if signed_in or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
        return response
