from django.urls import path

from backend.einvoicing import views

invoice = "bookings/<int:booking_id>/invoices/<int:document_id>"

urlpatterns = [
    path(
        "bookings/<int:booking_id>/invoices/", views.BookingInvoiceListView.as_view(), name="booking-invoices"
    ),
    path(f"{invoice}/xml/", views.BookingInvoiceXmlView.as_view(), name="booking-invoice-xml"),
    path(f"{invoice}/html/", views.BookingInvoiceHtmlView.as_view(), name="booking-invoice-html"),
    path(
        "manage/salons/<int:salon_id>/invoices/",
        views.ManagedInvoiceListView.as_view(),
        name="manage-invoices",
    ),
    path(
        "manage/salons/<int:salon_id>/einvoicing/onboard/",
        views.OnboardView.as_view(),
        name="manage-einvoicing-onboard",
    ),
]
