"""The API of certification: applications (apply, the supervisor's approve / reject, HR's confirm /
send back, HR's bulk run) with their decision records, and certificates (read, PDF, revoke) —
every step one call into ``certification.services``, as on the pages.

Scoping mirrors ``views.py``: reads through ``visible_to``; a supervisor decides only on the
applications of the people they rate (``supervised_by``, never their own); HR's steps need
``certification.confirm``. A role with no business with a step answers 403 before anything is
read; an application or certificate out of scope answers 404. Request bodies carry only what the
step needs (a note or a reason): status, grades, approvals and certificates are never fields a
caller sets (an unknown field is a 400 and nothing changes).
"""

from .applications import ApplicationViewSet
from .certificates import CertificateViewSet

__all__ = ["ApplicationViewSet", "CertificateViewSet"]
