"""Top-level URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from claims import throttling, views_health

handler500 = "claims.views_errors.server_error"

admin.site.site_header = "claimdesk administration"
admin.site.site_title = "claimdesk admin"

urlpatterns = [
    # The load balancer's health check: no login, no session.
    path("healthz", views_health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin's).
    # (The unhashed name: whitenoise serves it too, and it needs no manifest at import time.)
    path("favicon.ico", RedirectView.as_view(url="/static/claims/favicon.svg", permanent=True)),
    path("admin/", admin.site.urls),
    # No password-reset pages: accounts are managed by the admins, and no mail is configured.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        # Counts a wrong old password as a failed login (django-axes).
        throttling.ThrottledPasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The REST API and its documentation (docs/api.md).
    path("api/", include("claims.api.urls")),
    path("", include("claims.urls")),
]
