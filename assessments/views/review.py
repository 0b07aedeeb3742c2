"""Stub: filled in by the assessment-cycles work."""


def review_list(request, pk=None):
    raise NotImplementedError


def review_assessment(request, pk=None):
    raise NotImplementedError


def return_to_manager(request, pk=None):
    raise NotImplementedError


def complete_review(request, pk=None):
    raise NotImplementedError
