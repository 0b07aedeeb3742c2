"""Stub: filled in by the assessment-cycles work."""


def evidence_upload(request, pk=None):
    raise NotImplementedError


def evidence_download(request, pk=None):
    raise NotImplementedError


def evidence_delete(request, pk=None):
    raise NotImplementedError
