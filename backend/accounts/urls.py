from django.urls import path

from backend.accounts import views

urlpatterns = [
    path("auth/otp/request/", views.OtpRequestView.as_view(), name="otp-request"),
    path("auth/otp/verify/", views.OtpVerifyView.as_view(), name="otp-verify"),
    path("auth/social/", views.SocialSignInView.as_view(), name="social-sign-in"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/export/", views.MeExportView.as_view(), name="me-export"),
]
