"""Who may call what: the roles of claims.roles, as on the pages."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from claims.roles import EDITOR, has_role

EXPORT_PERMISSION = "claims.export_dataset"


class ReadOrEditor(BasePermission):
    """Any user reads (what the view shows them); editors and admins write."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return bool(request.user and has_role(request.user, EDITOR))


class CanExport(BasePermission):
    """Datasets (gold labels, exports): researchers, editors and admins."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm(EXPORT_PERMISSION))
