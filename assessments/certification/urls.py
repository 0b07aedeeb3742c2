from django.urls import path

from . import views

app_name = "certification"

urlpatterns = [
    path("", views.my_overview, name="my-overview"),
    path("apply/<int:pk>/", views.application_create, name="application-create"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/approve/", views.application_approve, name="application-approve"),
    path("applications/<int:pk>/reject/", views.application_reject, name="application-reject"),
    path("applications/<int:pk>/confirm/", views.application_confirm, name="application-confirm"),
    path(
        "applications/<int:pk>/send-back/",
        views.application_send_back,
        name="application-send-back",
    ),
    path("approvals/", views.approval_list, name="approval-list"),
    path("confirmations/", views.confirmation_list, name="confirmation-list"),
    path("bulk-apply/", views.application_bulk_create, name="application-bulk-create"),
    path("certificates/", views.certificate_list, name="certificate-list"),
    path("certificates/export/", views.certificate_export, name="certificate-export"),
    path("certificates/<int:pk>/", views.certificate_detail, name="certificate-detail"),
    path("certificates/<int:pk>/pdf/", views.certificate_pdf_download, name="certificate-pdf"),
    path("certificates/<int:pk>/revoke/", views.certificate_revoke, name="certificate-revoke"),
    path("verify/", views.certificate_lookup, name="certificate-lookup"),
    path("verify/<str:number>/", views.certificate_verify, name="certificate-verify"),
]
