"""Admin: users with their role, API keys (created once, revoked, never edited)
and the audit log (read-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet, URLField
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.models import ApiKey, AuditEntry, User
from accounts.roles import Role
from accounts.services.api_keys import api_key_create, api_key_expiry, api_key_revoke
from accounts.services.audit import request_source
from accounts.services.users import user_set_active, user_set_role
from issuetracker.errors import ApplicationError

# Django's admin and form classes are generic for the type checker only.
if TYPE_CHECKING:
    BaseUserAdmin = DjangoUserAdmin[User]
    ApiKeyModelAdmin = admin.ModelAdmin[ApiKey]
    ApiKeyModelForm = forms.ModelForm[ApiKey]
    AuditEntryModelAdmin = admin.ModelAdmin[AuditEntry]
else:
    BaseUserAdmin = DjangoUserAdmin
    ApiKeyModelAdmin = admin.ModelAdmin
    ApiKeyModelForm = forms.ModelForm
    AuditEntryModelAdmin = admin.ModelAdmin

ISSUED_KEY_ATTRIBUTE = "_issued_key"  # the new key, held on the object until shown


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users: role, active flag, last login. They appear at their first sign-in."""

    list_display = (
        "username",
        "display_name",
        "email",
        "role",
        "is_active",
        "last_login",
    )
    list_filter = ("role", "is_active")
    search_fields = ("username", "email", "display_name")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "email", "display_name", "avatar_url")}),
        ("Access", {"fields": ("role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    # The username is the actor id on issues and comments in Firestore
    # (reporterId, assigneeId, authorId): renaming would orphan them.
    readonly_fields = ("username", "last_login", "date_joined")
    # Avatars are Google's https URLs; also Django 6's default for bare hosts.
    formfield_overrides = {URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Users arrive by Google sign-in, `assign_role --create` or the import."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Deactivate instead: a user's id stays on the issues they reported."""
        return False

    def save_model(
        self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool
    ) -> None:
        """Role and active flag go through the services (last-admin guard)."""
        role_changed = "role" in form.changed_data
        active_changed = "is_active" in form.changed_data
        new_role = Role(obj.role)
        new_active = obj.is_active
        if role_changed:
            obj.role = form.initial["role"]
        if active_changed:
            obj.is_active = form.initial["is_active"]
        super().save_model(request, obj, form, change)
        if role_changed:
            try:
                user_set_role(
                    user=obj,
                    role=new_role,
                    actor=request.user,
                    source=request_source(request.META),
                )
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
        if active_changed:
            try:
                user_set_active(
                    actor=request.user,
                    user=obj,
                    active=new_active,
                    source=request_source(request.META),
                )
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)


class ApiKeyAddForm(ApiKeyModelForm):
    """Owner, name and an optional lifetime; the key itself is drawn on save."""

    expires_in_days = forms.IntegerField(
        min_value=1,
        required=False,
        help_text="Leave empty for a key that never expires.",
    )

    class Meta:
        model = ApiKey
        fields = ("owner", "name")


@admin.register(ApiKey)
class ApiKeyAdmin(ApiKeyModelAdmin):
    """API keys: the key is shown once after creation; revoke with the action."""

    list_display = (
        "__str__",
        "owner",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "name", "owner__username", "owner__email")
    list_select_related = ("owner",)
    actions = ("revoke_keys",)
    readonly_fields = (
        "owner",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )

    def get_form(
        self,
        request: HttpRequest,
        obj: ApiKey | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[ApiKey]]:
        """The add form for new keys; nothing is editable afterwards."""
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> list[str] | tuple[Any, ...]:
        """All fields are read-only once the key exists."""
        return self.readonly_fields if obj is not None else ()

    def get_fields(
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> list[Any] | tuple[Any, ...]:
        """Owner, name and lifetime on creation; the record afterwards."""
        if obj is None:
            return ("owner", "name", "expires_in_days")
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Revoke instead, so the record of the key stays."""
        return False

    def save_model(
        self, request: HttpRequest, obj: ApiKey, form: ModelForm[ApiKey], change: bool
    ) -> None:
        """Issue the key through the service and keep it on `obj` for the response."""
        if change:
            return
        issued = api_key_create(
            owner=form.cleaned_data["owner"],
            name=form.cleaned_data.get("name") or "",
            expires_at=api_key_expiry(days=form.cleaned_data.get("expires_in_days")),
            actor=request.user,
            source=request_source(request.META),
        )
        for model_field in ApiKey._meta.concrete_fields:
            setattr(
                obj, model_field.attname, getattr(issued.api_key, model_field.attname)
            )
        obj._state.adding = False
        setattr(obj, ISSUED_KEY_ATTRIBUTE, issued.key)

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None
    ) -> HttpResponse:
        """Show the key once, on this response only; it is not stored anywhere."""
        return render(
            request,
            "accounts/admin/api_key_created.html",
            {
                **self.admin_site.each_context(request),
                "api_key": obj,
                "key": getattr(obj, ISSUED_KEY_ATTRIBUTE),
                "changelist_url": reverse("admin:accounts_apikey_changelist"),
                "title": "API key created",
            },
        )

    @admin.action(description="Revoke the selected API keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        """Revoke each selected key from the next request on."""
        source = request_source(request.META)
        revoked = sum(
            api_key_revoke(api_key=key, actor=request.user, source=source)
            for key in queryset
        )
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditEntryModelAdmin):
    """The audit log, read-only: nobody adds, changes or deletes an entry."""

    list_display = ("created_at", "actor", "action", "target", "source")
    list_filter = ("action",)
    search_fields = ("actor", "target", "source")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "actor", "action", "target", "source", "details")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Entries are written by the actions they record, never by hand."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Append-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Append-only."""
        return False
