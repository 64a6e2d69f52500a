"""Template flags for the navigation: which roles the user holds (read only when used)."""

from django.utils.functional import SimpleLazyObject

from claims.roles import ANNOTATOR, EDITOR, has_role, role_names


def roles(request) -> dict:
    # Lazy: partials that never show the navigation cost no groups query.
    return {
        "is_annotator": SimpleLazyObject(lambda: ANNOTATOR in role_names(request.user)),
        "is_editor": SimpleLazyObject(lambda: has_role(request.user, EDITOR)),
    }
