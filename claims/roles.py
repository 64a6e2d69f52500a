"""Roles are Django groups; these helpers answer "may this user…" for views and templates."""

from functools import wraps

from django.core.exceptions import PermissionDenied

ANNOTATOR, EDITOR, RESEARCHER = "annotator", "editor", "researcher"


def has_role(user, *roles: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    names = getattr(user, "_role_names", None)
    if names is None:
        names = user._role_names = set(user.groups.values_list("name", flat=True))
    return bool(names & set(roles))


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
