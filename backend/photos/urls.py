from django.urls import path

from backend.photos import views

manage = "manage/salons/<int:salon_id>"

urlpatterns = [
    path(f"{manage}/photos/", views.PhotoListView.as_view(), name="manage-photos"),
    path(f"{manage}/photos/<int:photo_id>/", views.PhotoDetailView.as_view(), name="manage-photo"),
    path(
        f"{manage}/staff/<int:staff_id>/avatar/", views.StaffAvatarView.as_view(), name="manage-staff-avatar"
    ),
]
