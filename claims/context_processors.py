"""Template flags for the navigation: which roles the user holds."""

from claims.roles import ANNOTATOR, EDITOR, has_role, role_names


def roles(request) -> dict:
    return {
        "is_annotator": ANNOTATOR in role_names(request.user),
        "is_editor": has_role(request.user, EDITOR),
    }
