from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import TemplateView

# Staff log in through allauth (so TOTP MFA applies), never the admin's own form.
admin.autodiscover()
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # wrapped on purpose
admin.site.site_header = "MGE platform"
admin.site.site_title = "MGE platform"
admin.site.index_title = "Studies, values and the moral graph"


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("journey.urls")),
    path("", include("interviews.urls")),
    path("", include("values.urls")),
    path("", include("graph.urls")),
    path("", include("alignment.urls")),
    path("", include("surveys.urls")),
]
