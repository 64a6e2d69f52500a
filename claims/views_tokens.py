"""A user's own API tokens: create one (its key shown once), see them, revoke one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from claims import tokens


@require_GET
@login_required
def token_list(request):
    return render(request, "claims/tokens.html", {"tokens": tokens.tokens_of(request.user)})


@require_POST
@login_required
def token_create(request):
    try:
        token, key = tokens.token_create(user=request.user, name=request.POST.get("name", ""))
    except ValidationError as error:
        context = {"tokens": tokens.tokens_of(request.user), "error": error.messages[0]}
        return render(request, "claims/tokens.html", context, status=422)
    # Rendered, not redirected to: the key is never stored, so this answer is its only showing.
    context = {"tokens": tokens.tokens_of(request.user), "new_token": token, "new_key": key}
    return render(request, "claims/tokens.html", context, status=201)


@require_POST
@login_required
def token_revoke(request, token_id):
    if tokens.token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "The token is revoked: requests with its key now fail.")
    return redirect("claims:token_list")
