from django.urls import path

from backend.salons import catalog_views, closure_views, invitation_views, manage_views, special_hours_views

# Bookings' endpoints under these paths (availability, the salon's bookings, cancel-upcoming) are routed by
# bookings/urls.py: bookings builds on salons, never the other way round.
MANAGE = "manage/salons/<int:salon_id>"
STAFF = f"{MANAGE}/staff/<int:staff_id>"

urlpatterns = [
    # Public catalog
    path("salons/", catalog_views.SalonListView.as_view(), name="salon-list"),
    path("salons/<int:salon_id>/", catalog_views.SalonDetailView.as_view(), name="salon-detail"),
    path("salons/<int:salon_id>/services/", catalog_views.ServiceListView.as_view(), name="salon-services"),
    path("salons/<int:salon_id>/staff/", catalog_views.StaffListView.as_view(), name="salon-staff"),
    # Staff invitations, as the invited person sees them
    path(
        "me/staff-invitations/", invitation_views.StaffInvitationListView.as_view(), name="staff-invitations"
    ),
    path(
        "me/staff-invitations/<int:invitation_id>/accept/",
        invitation_views.StaffInvitationAcceptView.as_view(),
        name="staff-invitation-accept",
    ),
    path(
        "me/staff-invitations/<int:invitation_id>/decline/",
        invitation_views.StaffInvitationDeclineView.as_view(),
        name="staff-invitation-decline",
    ),
    # Salon management
    path("manage/salons/", manage_views.ManagedSalonListView.as_view(), name="manage-salon-list"),
    path(f"{MANAGE}/settings/", manage_views.SalonSettingsView.as_view(), name="manage-settings"),
    path(f"{MANAGE}/business-hours/", manage_views.BusinessHoursView.as_view(), name="manage-business-hours"),
    path(f"{MANAGE}/services/", manage_views.ServiceManageListView.as_view(), name="manage-services"),
    path(
        f"{MANAGE}/services/<int:service_id>/",
        manage_views.ServiceManageDetailView.as_view(),
        name="manage-service",
    ),
    path(f"{MANAGE}/staff/", manage_views.StaffManageListView.as_view(), name="manage-staff-list"),
    path(f"{STAFF}/", manage_views.StaffManageDetailView.as_view(), name="manage-staff"),
    path(f"{STAFF}/working-hours/", manage_views.WorkingHoursView.as_view(), name="manage-working-hours"),
    path(f"{STAFF}/time-off/", manage_views.TimeOffListView.as_view(), name="manage-time-off-list"),
    path(
        f"{STAFF}/time-off/<int:time_off_id>/",
        manage_views.TimeOffDetailView.as_view(),
        name="manage-time-off",
    ),
    path(f"{MANAGE}/closures/", closure_views.ClosureListView.as_view(), name="manage-closures"),
    path(
        f"{MANAGE}/closures/<int:closure_id>/",
        closure_views.ClosureDetailView.as_view(),
        name="manage-closure",
    ),
    path(
        f"{MANAGE}/special-hours/",
        special_hours_views.SalonSpecialHoursListView.as_view(),
        name="manage-special-hours-list",
    ),
    path(
        f"{MANAGE}/special-hours/<int:special_hours_id>/",
        special_hours_views.SalonSpecialHoursDetailView.as_view(),
        name="manage-special-hours",
    ),
    path(
        f"{STAFF}/special-hours/",
        special_hours_views.StaffSpecialHoursListView.as_view(),
        name="manage-staff-special-hours-list",
    ),
    path(
        f"{STAFF}/special-hours/<int:special_hours_id>/",
        special_hours_views.StaffSpecialHoursDetailView.as_view(),
        name="manage-staff-special-hours",
    ),
    # Platform administration
    path("admin/salons/", manage_views.AdminSalonCreateView.as_view(), name="admin-salon-create"),
]
