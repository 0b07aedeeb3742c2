"""The certificate as a PDF (WeasyPrint): Chinese and English on one A4 landscape page.

The page names its CJK font (WenQuanYi Micro Hei, a Debian package) and loads nothing from
outside: every resource is inline, and the URL fetcher refuses all but ``data:`` URIs.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from ..models import Certificate


def certificate_context(certificate: Certificate, today) -> dict:
    application = certificate.application
    return {
        "certificate": certificate,
        "grade": certificate.grade,
        "cycle": application.cycle,
        "state": certificate.state(today),
        "verify_url": settings.SITE_URL
        + reverse("certification:certificate-verify", args=[certificate.number]),
    }


def certificate_pdf(certificate: Certificate, *, today=None) -> bytes:
    """The certificate's PDF; a revoked or expired certificate carries that mark across it."""
    # Imported here: loading WeasyPrint parses its stylesheets, which only PDF requests need.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    context = certificate_context(certificate, today or timezone.localdate())
    # Chinese first; the template switches to English for the English half ({% language %}).
    with translation.override("zh-hans"):
        html = render_to_string("certification/certificate_pdf.html", context)
    fetcher = URLFetcher(allowed_protocols=["data"])
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()


def certificate_filename(certificate: Certificate) -> str:
    return f"certificate-{certificate.number}.pdf"
