"""Helpers to fill in assessments the way the pages do, for workflow tests."""

from assessments.services import (
    IndustryInput,
    RatingInput,
    complete_assessment,
    save_review,
    save_self_assessment,
    submit_self_assessment,
)


def codes(assessment):
    return list(
        assessment.ratings.order_by("category__domain__order", "category__order").values_list(
            "category__code", flat=True
        )
    )


def fill_self(assessment, level=3, industries=None):
    industries = industries if industries is not None else {"finance": IndustryInput(4, "SWOT")}
    return save_self_assessment(
        assessment=assessment,
        by=assessment.person,
        revision=assessment.revision,
        ratings={code: RatingInput(level, "") for code in codes(assessment)},
        industries=industries,
    )


def submit(assessment, level=3):
    assessment = fill_self(assessment, level)
    return submit_self_assessment(
        assessment=assessment, by=assessment.person, revision=assessment.revision
    )


def review(assessment, supervisor, level=3, depth=4, comment=""):
    assessment = save_review(
        assessment=assessment,
        by=supervisor,
        revision=assessment.revision,
        ratings={code: RatingInput(level, comment) for code in codes(assessment)},
        depths={
            r.industry.code: depth for r in assessment.industry_ratings.select_related("industry")
        },
    )
    return assessment


def complete(assessment, supervisor, level=3, depth=4):
    assessment = review(assessment, supervisor, level, depth)
    return complete_assessment(assessment=assessment, by=supervisor, revision=assessment.revision)
