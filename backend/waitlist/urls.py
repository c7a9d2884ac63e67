from django.urls import path

from backend.waitlist import views

urlpatterns = [
    path("waitlist/", views.WaitlistListCreateView.as_view(), name="waitlist"),
    path("waitlist/<int:entry_id>/", views.WaitlistDetailView.as_view(), name="waitlist-entry"),
    path("waitlist/<int:entry_id>/accept/", views.WaitlistAcceptView.as_view(), name="waitlist-accept"),
    path("waitlist/<int:entry_id>/decline/", views.WaitlistDeclineView.as_view(), name="waitlist-decline"),
    path("manage/salons/<int:salon_id>/waitlist/", views.SalonWaitlistView.as_view(), name="manage-waitlist"),
]
