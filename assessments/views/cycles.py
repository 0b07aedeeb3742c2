"""Stub: filled in by the assessment-cycles work."""


def cycle_list(request, pk=None):
    raise NotImplementedError


def cycle_create(request, pk=None):
    raise NotImplementedError


def cycle_detail(request, pk=None):
    raise NotImplementedError


def cycle_edit(request, pk=None):
    raise NotImplementedError


def cycle_open(request, pk=None):
    raise NotImplementedError


def cycle_close(request, pk=None):
    raise NotImplementedError


def cycle_remind(request, pk=None):
    raise NotImplementedError


def cycle_add_people(request, pk=None):
    raise NotImplementedError
