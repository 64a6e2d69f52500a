"""Roles are Django groups; these helpers answer "may this user…" for views and templates."""

from functools import wraps

from django.core.exceptions import PermissionDenied

ANNOTATOR, EDITOR, RESEARCHER = "annotator", "editor", "researcher"


def role_names(user) -> set[str]:
    """The user's groups, read once per request (cached on the user object)."""
    if not user.is_authenticated:
        return set()
    names = getattr(user, "_role_names", None)
    if names is None:
        names = user._role_names = set(user.groups.values_list("name", flat=True))
    return names


def has_role(user, *roles: str) -> bool:
    """Superusers hold every role."""
    if user.is_authenticated and user.is_superuser:
        return True
    return bool(role_names(user) & set(roles))


def role_required(*roles: str):
    """403 unless the (logged-in) user holds one of the roles; use under @login_required."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
