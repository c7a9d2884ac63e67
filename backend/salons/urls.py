from django.urls import path

from backend.salons import catalog_views, closure_views, invitation_views, manage_views, special_hours_views

manage = "manage/salons/<int:salon_id>"
staff = f"{manage}/staff/<int:staff_id>"

urlpatterns = [
    # Public catalog
    path("salons/", catalog_views.SalonListView.as_view(), name="salon-list"),
    path("salons/<int:salon_id>/", catalog_views.SalonDetailView.as_view(), name="salon-detail"),
    path("salons/<int:salon_id>/services/", catalog_views.ServiceListView.as_view(), name="salon-services"),
    path("salons/<int:salon_id>/staff/", catalog_views.StaffListView.as_view(), name="salon-staff"),
    path(
        "salons/<int:salon_id>/availability/",
        catalog_views.AvailabilityView.as_view(),
        name="salon-availability",
    ),
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
    path(f"{manage}/settings/", manage_views.SalonSettingsView.as_view(), name="manage-settings"),
    path(f"{manage}/business-hours/", manage_views.BusinessHoursView.as_view(), name="manage-business-hours"),
    path(f"{manage}/services/", manage_views.ServiceManageListView.as_view(), name="manage-services"),
    path(
        f"{manage}/services/<int:service_id>/",
        manage_views.ServiceManageDetailView.as_view(),
        name="manage-service",
    ),
    path(f"{manage}/staff/", manage_views.StaffManageListView.as_view(), name="manage-staff-list"),
    path(f"{staff}/", manage_views.StaffManageDetailView.as_view(), name="manage-staff"),
    path(
        f"{staff}/cancel-upcoming/",
        manage_views.StaffCancelUpcomingView.as_view(),
        name="manage-staff-cancel-upcoming",
    ),
    path(f"{staff}/working-hours/", manage_views.WorkingHoursView.as_view(), name="manage-working-hours"),
    path(f"{staff}/time-off/", manage_views.TimeOffListView.as_view(), name="manage-time-off-list"),
    path(
        f"{staff}/time-off/<int:time_off_id>/",
        manage_views.TimeOffDetailView.as_view(),
        name="manage-time-off",
    ),
    path(f"{manage}/closures/", closure_views.ClosureListView.as_view(), name="manage-closures"),
    path(
        f"{manage}/closures/<int:closure_id>/",
        closure_views.ClosureDetailView.as_view(),
        name="manage-closure",
    ),
    path(f"{manage}/bookings/", manage_views.SalonBookingListView.as_view(), name="manage-bookings"),
    path(
        f"{manage}/special-hours/",
        special_hours_views.SalonSpecialHoursListView.as_view(),
        name="manage-special-hours-list",
    ),
    path(
        f"{manage}/special-hours/<int:special_hours_id>/",
        special_hours_views.SalonSpecialHoursDetailView.as_view(),
        name="manage-special-hours",
    ),
    path(
        f"{staff}/special-hours/",
        special_hours_views.StaffSpecialHoursListView.as_view(),
        name="manage-staff-special-hours-list",
    ),
    path(
        f"{staff}/special-hours/<int:special_hours_id>/",
        special_hours_views.StaffSpecialHoursDetailView.as_view(),
        name="manage-staff-special-hours",
    ),
    # Platform administration
    path("admin/salons/", manage_views.AdminSalonCreateView.as_view(), name="admin-salon-create"),
]
