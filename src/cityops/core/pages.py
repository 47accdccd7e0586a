"""The pages a workflow domain gets from its model and workflow: a list, an object page with its state,
deadline, timeline and the forms of the actions the user may take now, and the POST of those forms.
A domain passes how to find its objects in the user's scope; core/templates/core/object_*.html draw them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from cityops.core import actions
from cityops.core.errors import CityopsError, InvalidInput
from cityops.core.timeline import timeline_shown


def domain_urls(model, *, scoped, columns: list[tuple[str, str]], title: str, name: str) -> list:
    """URL patterns `""` (list), `<int:pk>/` (page) and `<int:pk>/act/<action>/` for `model`.
    `scoped(user)` is the queryset the user may see (the domain's selector); `columns` are (field, label)."""

    def load(user, pk):
        obj = scoped(user).filter(pk=pk).first()
        if obj is None:
            raise Http404(model._meta.verbose_name)
        return obj

    @login_required
    def object_list(request):
        page = Paginator(scoped(request.user).order_by("-pk"), 50).get_page(request.GET.get("page"))
        rows = [(obj, [getattr(obj, f) for f, _ in columns]) for obj in page]
        return render(request, "core/object_list.html",
                      {"page": page, "rows": rows, "columns": [label for _, label in columns], "title": title})

    @login_required
    def object_page(request, pk):
        obj = load(request.user, pk)
        acts = [{"t": t, "form": actions.action_form(obj, t), "url": f"{request.path}act/{t.action}/"}
                for t in actions.available_actions(obj, request.user)]
        fields = [(label, getattr(obj, f)) for f, label in columns]
        return render(request, "core/object_detail.html",
                      {"obj": obj, "fields": fields, "acts": acts, "timeline": timeline_shown(obj), "title": title})

    @login_required
    @require_POST
    def object_action(request, pk, action):
        obj = load(request.user, pk)
        try:
            t = actions.find_action(model, action)
            form = actions.action_form(obj, t, request.POST)
            if not form.is_valid():
                raise InvalidInput(actions.form_problems(form), actions.form_problems(form))
            actions.run_action(obj, action, request.user, form.cleaned_data)
            messages.success(request, t.label or action)
        except CityopsError as exc:
            messages.error(request, exc.message)
        return redirect("../../")

    return [
        path("", object_list, name=f"{name}_list"),
        path("<int:pk>/", object_page, name=f"{name}_page"),
        path("<int:pk>/act/<str:action>/", object_action, name=f"{name}_action"),
    ]
