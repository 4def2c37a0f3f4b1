from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "有料オプション管理 バックオフィス"
admin.site.site_title = "有料オプション管理"
admin.site.index_title = "データ入力"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tariff/", include("options.urls")),
    path("security/", include("security.urls")),
    path("accounting/", include("accounting.urls")),
    path("exports/", include("exports.urls")),
    path("", include("contracts.urls")),
]

# The Japanese 403 page, recording the refusal in the auth log.
handler403 = "security.views.permission_denied"
