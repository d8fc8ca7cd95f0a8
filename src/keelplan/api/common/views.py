"""View plumbing every dialect shares: rows found among those the actor may see, writes made by services, and a
schema inspector named per dialect rather than in ``REST_FRAMEWORK``.

Nothing here sets authentication, renderers, pages or an exception handler: each dialect's own base class sets
them, and a view of that dialect subclasses both.
"""

from __future__ import annotations

from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector

from keelplan.core.errors import NotFound

# Row ids in routes: the digits of a positive 64-bit integer at most, so a path never holds an id the database
# cannot compare.
ID_REGEX = "[0-9]{1,18}"


def visible_row(queryset, pk):
    """The row ``pk`` of a permission-filtered ``queryset``, or ``NotFound`` naming the model: a row the actor may
    not see is missing, never forbidden, so its existence does not leak."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise NotFound(f"{queryset.model._meta.verbose_name.capitalize()} not found.")
    return row


class SchemaInspector(ViewInspector):
    """``schema = SchemaInspector(SomeAutoSchema)`` on a dialect's base class: each view gets a fresh inspector of
    that class, as DRF's default descriptor gives one of ``DEFAULT_SCHEMA_CLASS``, so the global setting can stay
    neutral."""

    def __init__(self, inspector_class):
        super().__init__()
        self.inspector_class = inspector_class

    def __get__(self, instance, owner):
        result = super().__get__(instance, owner)
        if result is not self:  # set on the instance (drf-spectacular does, for @extend_schema'd actions)
            return result
        inspector = self.inspector_class()
        inspector.view = instance
        return inspector


class ServiceViewSetBase(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A resource read through a selector (``get_queryset``) and written through services.

    Subclasses name ``create_service``, ``update_service`` and ``delete_service`` (as ``staticmethod``) and the
    keyword the row is passed to them under (``instance_kwarg``); ``service_kwargs`` turns validated data into
    the service's keywords. Every service gets ``actor=request.user``. Answers re-read the row through
    ``get_queryset``, so the writer sees it as every reader does (annotations, permission filtering).
    """

    lookup_value_regex = ID_REGEX
    create_service = None
    update_service = None
    delete_service = None
    instance_kwarg = "instance"
    update_serializer_class = None

    def get_update_serializer(self, *args, **kwargs):
        cls = self.update_serializer_class or self.get_serializer_class()
        kwargs.setdefault("context", self.get_serializer_context())
        return cls(*args, **kwargs)

    def service_kwargs(self, data: dict) -> dict:
        return data

    def reread(self, obj):
        return self.get_queryset().get(pk=obj.pk)

    def get_object(self):
        return visible_row(self.get_queryset(), self.kwargs[self.lookup_url_kwarg or self.lookup_field])

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("lock_version", None)
        obj = type(self).create_service(actor=request.user, **self.service_kwargs(data))
        return Response(self.get_serializer(self.reread(obj)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_update_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lock_version = data.pop("lock_version", None)
        obj = type(self).update_service(actor=request.user, lock_version=lock_version,
                                        **{self.instance_kwarg: instance}, **self.service_kwargs(data))
        return Response(self.get_serializer(self.reread(obj)).data)

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        type(self).delete_service(actor=request.user, **{self.instance_kwarg: instance})
        return Response(status=status.HTTP_204_NO_CONTENT)


__all__ = ["ID_REGEX", "SchemaInspector", "ServiceViewSetBase", "visible_row"]
