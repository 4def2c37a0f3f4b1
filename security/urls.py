from django.urls import path

from . import views

app_name = "security"

urlpatterns = [
    path("auth-log/", views.AuthEventListView.as_view(), name="auth_log"),
    path("lockouts/", views.LockoutListView.as_view(), name="lockout_list"),
    path("lockouts/release/", views.LockoutReleaseView.as_view(), name="lockout_release"),
]
