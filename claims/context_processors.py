"""Template flags for the navigation: which roles the user holds."""

from claims.roles import ANNOTATOR, EDITOR, has_role


def roles(request) -> dict:
    user = request.user
    return {
        "is_annotator": user.is_authenticated and user.groups.filter(name=ANNOTATOR).exists(),
        "is_editor": has_role(user, EDITOR),
    }
