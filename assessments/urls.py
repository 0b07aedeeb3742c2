from django.urls import path

from .views import cycles, files, manager, review

app_name = "assessments"

urlpatterns = [
    # The account manager
    path("my/", manager.my_assessments, name="my-list"),
    path("<int:pk>/", manager.assessment_detail, name="detail"),
    path("<int:pk>/self/", manager.self_assessment, name="self"),
    path("<int:pk>/self/submit/", manager.submit_self, name="self-submit"),
    # Evidence files (seen only by who may see the assessment)
    path("<int:pk>/evidence/", files.evidence_upload, name="evidence-upload"),
    path("evidence/<int:pk>/", files.evidence_download, name="evidence-download"),
    path("evidence/<int:pk>/delete/", files.evidence_delete, name="evidence-delete"),
    # The supervisor
    path("review/", review.review_list, name="review-list"),
    path("<int:pk>/review/", review.review_assessment, name="review"),
    path("<int:pk>/review/return/", review.return_to_manager, name="review-return"),
    path("<int:pk>/review/complete/", review.complete_review, name="review-complete"),
    # HR
    path("cycles/", cycles.cycle_list, name="cycle-list"),
    path("cycles/new/", cycles.cycle_create, name="cycle-create"),
    path("cycles/<int:pk>/", cycles.cycle_detail, name="cycle-detail"),
    path("cycles/<int:pk>/edit/", cycles.cycle_edit, name="cycle-edit"),
    path("cycles/<int:pk>/open/", cycles.cycle_open, name="cycle-open"),
    path("cycles/<int:pk>/close/", cycles.cycle_close, name="cycle-close"),
    path("cycles/<int:pk>/remind/", cycles.cycle_remind, name="cycle-remind"),
    path("cycles/<int:pk>/participants/", cycles.cycle_add_people, name="cycle-add-people"),
]
