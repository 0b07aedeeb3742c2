"""Stub: filled in by the assessment-cycles work."""


def my_assessments(request, pk=None):
    raise NotImplementedError


def assessment_detail(request, pk=None):
    raise NotImplementedError


def self_assessment(request, pk=None):
    raise NotImplementedError


def submit_self(request, pk=None):
    raise NotImplementedError
